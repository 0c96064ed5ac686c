#!/usr/bin/env bash
# Builds (once) kubectl-mtb, the Kubernetes Multi-Tenancy Benchmarks runner
# (kubernetes-sigs/multi-tenancy, benchmarks/kubectl-mtb, Apache-2.0; archived at commit $commit),
# into a cache outside the repository keyed by that commit and this script, and prints the binary's
# path. A warm run only checks that the binary exists. Progress goes to stderr, with a heartbeat.
#
# The source is not on the Go module proxy (neither sigs.k8s.io/multi-tenancy/benchmarks/kubectl-mtb
# nor the repository root at this commit: the proxy answers 403 "not available"), so it comes from,
# in this order:
#   MTB_SRC=<dir>    a checkout (or bare clone) of kubernetes-sigs/multi-tenancy holding $commit
#   a snapshot under /work/.mirror/kubernetes-sigs+multi-tenancy/repo (this project's dev machines)
#   git clone https://github.com/kubernetes-sigs/multi-tenancy (needs network access to GitHub)
# Its own dependencies (k8s 0.18) come from the Go module proxy. Two repairs are needed for a
# build today: vbom.ml (a vanity host that is gone) is replaced by its GitHub home, and the two
# generators run first, or the binary registers 0 benchmarks.
set -euo pipefail
commit=5fa490746bf88e611248bf4b65a01a9365193ea9
cache_root="${SWS_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/secure-workspace-operator}"
key="$( (echo "$commit"; cat "$0") | sha256sum | cut -c1-16)"
out="$cache_root/kubectl-mtb-$key"

if [ -x "$out/kubectl-mtb" ]; then echo "$out/kubectl-mtb"; exit 0; fi
mkdir -p "$cache_root"
exec 9>"$cache_root/kubectl-mtb.lock"
flock 9
if [ -x "$out/kubectl-mtb" ]; then echo "$out/kubectl-mtb"; exit 0; fi

tmp="$out.tmp.$$"
mkdir -p "$tmp/src"
start=$(date +%s)
heartbeat() { while sleep 30; do echo "  ... still building kubectl-mtb ($(( $(date +%s) - start ))s)" >&2; done; }
heartbeat & hb=$!
trap 'kill $hb 2>/dev/null; rm -rf "$tmp"' EXIT

# A git directory (bare or not) that has the commit, or empty.
git_dir_with_commit() {
  local dir="$1"
  [ -d "$dir" ] || return 1
  git --git-dir="$(git -C "$dir" rev-parse --absolute-git-dir 2>/dev/null || echo "$dir")" \
    cat-file -e "$commit^{commit}" 2>/dev/null || return 1
  git -C "$dir" rev-parse --absolute-git-dir 2>/dev/null || echo "$dir"
}
src_git=""
for candidate in "${MTB_SRC:-}" /work/.mirror/kubernetes-sigs+multi-tenancy/repo; do
  [ -n "$candidate" ] || continue
  if src_git="$(git_dir_with_commit "$candidate")"; then break; fi
  src_git=""
done
if [ -z "$src_git" ]; then
  echo "  cloning github.com/kubernetes-sigs/multi-tenancy (no MTB_SRC given)..." >&2
  git clone --quiet --bare --filter=blob:none https://github.com/kubernetes-sigs/multi-tenancy "$tmp/repo.git" >&2
  src_git="$tmp/repo.git"
fi
echo "building kubectl-mtb ($commit) into $out (first build only, about 5 minutes on 2 cores)" >&2
# releases/ holds prebuilt binaries (absent from snapshots, unused here).
git --git-dir="$src_git" archive "$commit" -- benchmarks/kubectl-mtb ":(exclude)benchmarks/kubectl-mtb/releases" | tar -x -C "$tmp/src"

export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-mod=mod
cd "$tmp/src/benchmarks/kubectl-mtb"
go mod edit -replace vbom.ml/util=github.com/fvbommel/util@v0.0.0-20160121211510-db5cfe13f5cc
echo "  generators (embedded benchmark definitions)..." >&2
(cd bundle/box && go run generator.go) >&2
(cd bundle/importer && go run generator.go) >&2
echo "  go build ($(( $(date +%s) - start ))s so far)..." >&2
nice go build -trimpath -ldflags "-s -w" -o "$tmp/kubectl-mtb" ./cmd/kubectl-mtb/ >&2
rm -rf "$tmp/src" "$tmp/repo.git"
mv "$tmp" "$out"
echo "built kubectl-mtb in $(( $(date +%s) - start ))s" >&2
echo "$out/kubectl-mtb"
