#!/usr/bin/env bash
# Builds (once) kube-apiserver, kube-controller-manager and etcd from the Go modules pinned in
# go.mod/go.sum, into a cache outside the repository keyed by their hash, and prints that directory.
# A warm run only checks that the three binaries exist. Progress goes to stderr.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
k8s_version="$(cat "$here/k8s-version")"
key="$(cat "$here/go.mod" "$here/go.sum" "$here/build.sh" | sha256sum | cut -c1-16)"
cache_root="${SWS_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/secure-workspace-operator}"
out="$cache_root/control-plane-$k8s_version-$key"
bins=(kube-apiserver kube-controller-manager etcd)

have_all() { for b in "${bins[@]}"; do [ -x "$out/$b" ] || return 1; done; }
if have_all; then echo "$out"; exit 0; fi

mkdir -p "$cache_root"
# One builder at a time (parallel test runs or make targets on a fresh machine).
exec 9>"$cache_root/build.lock"
flock 9
if have_all; then echo "$out"; exit 0; fi

major="${k8s_version#v}"; major="${major%%.*}"
minor="${k8s_version#v*.}"; minor="${minor%%.*}"
pkg=k8s.io/component-base/version
ldflags="-s -w -X $pkg.gitVersion=$k8s_version -X $pkg.gitMajor=$major -X $pkg.gitMinor=$minor \
 -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"

export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-mod=mod
tmp="$out.tmp.$$"
mkdir -p "$tmp"
trap 'rm -rf "$tmp"' EXIT
cd "$here"
start=$(date +%s)
echo "building the test control plane ($k8s_version) into $out; the first build takes 10-20 minutes" >&2
echo "  downloading modules..." >&2
go mod download >&2
for target in "kube-apiserver=k8s.io/kubernetes/cmd/kube-apiserver" \
              "kube-controller-manager=k8s.io/kubernetes/cmd/kube-controller-manager" \
              "etcd=go.etcd.io/etcd/server/v3"; do
  name="${target%%=*}"; path="${target#*=}"
  echo "  go build $name ($(( $(date +%s) - start ))s so far)..." >&2
  go build -trimpath -ldflags "$ldflags" -o "$tmp/$name" "$path" >&2
done
mv "$tmp" "$out"
trap - EXIT
echo "built in $(( $(date +%s) - start ))s" >&2
echo "$out"
