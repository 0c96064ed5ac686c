#!/usr/bin/env bash
# Builds (once) one part of the real test node from the Go modules pinned in test/nodebuild/<part>/,
# into a cache outside the repository keyed by that part's go.mod, go.sum, sources and recipe,
# and prints the directory. A warm run only checks that the binaries exist. Progress goes to stderr,
# with a heartbeat line every 30 s while the compiler works.
#
#   test/nodebuild/build.sh k8s          kubelet, kube-scheduler (same release as test/apiserver)
#   test/nodebuild/build.sh containerd   containerd, containerd-shim-runc-v2, ctr
#   test/nodebuild/build.sh cni          bridge, host-local, loopback, portmap
#   test/nodebuild/build.sh kube-router  kube-router (the NetworkPolicy enforcer)
#   test/nodebuild/build.sh images       imagetool, and the static pause and probe binaries
#   test/nodebuild/build.sh all          every part, one after the other; prints nothing
#
# Each part is its own Go module so that one part's dependencies never move another's (containerd,
# kube-router and Kubernetes pin different versions of the same libraries), and so that the control
# plane's cache key (test/apiserver) is untouched by the node.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
part="${1:?usage: $0 k8s|containerd|cni|kube-router|images|all}"

if [ "$part" = all ]; then
  for p in k8s containerd cni kube-router images; do "$0" "$p" >/dev/null; done
  exit 0
fi

dir="$here/$part"
[ -f "$dir/go.mod" ] || { echo "build.sh: unknown part $part" >&2; exit 2; }
cache_root="${SWS_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/secure-workspace-operator}"

k8s_version="$(cat "$here/../apiserver/k8s-version")"
major="${k8s_version#v}"; major="${major%%.*}"
minor="${k8s_version#v*.}"; minor="${minor%%.*}"
kver=k8s.io/component-base/version
k8s_ldflags="-X $kver.gitVersion=$k8s_version -X $kver.gitMajor=$major -X $kver.gitMinor=$minor \
 -X $kver.gitTreeState=clean -X $kver.buildDate=1970-01-01T00:00:00Z"

# name=package [extra ldflags]
case "$part" in
  k8s) targets=("kubelet=k8s.io/kubernetes/cmd/kubelet" "kube-scheduler=k8s.io/kubernetes/cmd/kube-scheduler")
       extra="$k8s_ldflags" ;;
  containerd) targets=("containerd=github.com/containerd/containerd/v2/cmd/containerd"
                       "containerd-shim-runc-v2=github.com/containerd/containerd/v2/cmd/containerd-shim-runc-v2"
                       "ctr=github.com/containerd/containerd/v2/cmd/ctr")
       cver=github.com/containerd/containerd/v2/version
       v=$(awk '$1 == "github.com/containerd/containerd/v2" {print $2}' "$dir/go.mod")
       extra="-X $cver.Version=$v -X $cver.Revision=module -X $cver.Package=github.com/containerd/containerd/v2" ;;
  cni) targets=("bridge=github.com/containernetworking/plugins/plugins/main/bridge"
                "host-local=github.com/containernetworking/plugins/plugins/ipam/host-local"
                "loopback=github.com/containernetworking/plugins/plugins/main/loopback"
                "portmap=github.com/containernetworking/plugins/plugins/meta/portmap")
       extra="" ;;
  kube-router) targets=("kube-router=github.com/cloudnativelabs/kube-router/v2/cmd/kube-router")
       extra="" ;;
  images) targets=("imagetool=./imagetool" "pause=./pause" "probe=./probe")
       extra="" ;;
  *) echo "build.sh: unknown part $part" >&2; exit 2 ;;
esac

# The key covers what decides the binaries (the recipe line, not the rest of this script, so editing
# a comment or another part's recipe rebuilds nothing).
key="$( (printf '%s\n' "${targets[@]}" "$extra"; cat "$dir/go.mod" "$dir/go.sum"; find "$dir" -name '*.go' -print0 | sort -z | xargs -0r cat) | sha256sum | cut -c1-16)"
out="$cache_root/node-$part-$key"

have_all() { for t in "${targets[@]}"; do [ -x "$out/${t%%=*}" ] || return 1; done; }
if have_all; then echo "$out"; exit 0; fi

mkdir -p "$cache_root"
# One builder per part at a time (parallel make targets on a fresh machine).
exec 9>"$cache_root/node-$part.lock"
flock 9
if have_all; then echo "$out"; exit 0; fi

export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-mod=mod
tmp="$out.tmp.$$"
mkdir -p "$tmp"
start=$(date +%s)
heartbeat() { while sleep 30; do echo "  ... still building node part $part ($(( $(date +%s) - start ))s)" >&2; done; }
heartbeat & hb=$!
trap 'kill $hb 2>/dev/null; rm -rf "$tmp"' EXIT
cd "$dir"
echo "building node part $part into $out (cold: kubelet ~7 min, kube-router ~5, containerd ~2, others <1)" >&2
go mod download >&2
for t in "${targets[@]}"; do
  name="${t%%=*}"; pkg="${t#*=}"
  echo "  go build $name ($(( $(date +%s) - start ))s so far)..." >&2
  go build -trimpath -ldflags "-s -w $extra" -o "$tmp/$name" "$pkg" >&2
done
mv "$tmp" "$out"
echo "built node part $part in $(( $(date +%s) - start ))s" >&2
echo "$out"
