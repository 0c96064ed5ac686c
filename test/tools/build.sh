#!/usr/bin/env bash
# Builds (once) a test tool from the Go module pinned in test/tools/<tool>/ (go.mod, go.sum), into
# a cache outside the repository keyed by that module and the recipe line below, and prints the
# binary's path. A warm run only checks that the binary exists. Progress goes to stderr, with a
# heartbeat line every 30 s while the compiler works.
#
#   test/tools/build.sh helm       helm (lint, template) for test/integration/helm.test.ts
#   test/tools/build.sh promtool   promtool (check rules, test rules) for test/unit/monitoring.test.ts
#   test/tools/build.sh all        both, one after the other; prints nothing
#
# Each tool is its own Go module, so that one's dependencies never move the other's or the
# control plane's (test/apiserver). Update one with `go get <module>@<version> && go mod tidy`
# in its folder, and move the version in its recipe below.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
tool="${1:?usage: $0 helm|promtool|all}"

if [ "$tool" = all ]; then
  for t in helm promtool; do "$0" "$t" >/dev/null; done
  exit 0
fi

case "$tool" in
  # Helm's own Makefile sets these: its version, and the Kubernetes version that
  # .Capabilities.KubeVersion and the lint deprecation checks assume (that of its client-go).
  helm) pkg=helm.sh/helm/v3/cmd/helm
        ldflags="-X helm.sh/helm/v3/internal/version.version=v3.22.0 -X helm.sh/helm/v3/internal/version.gitTreeState=clean \
 -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMajor=1 -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMinor=37 \
 -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMajor=1 -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMinor=37"
        cold="a few minutes on 2 cores, about 16 while other Go builds run" ;;
  # Prometheus' module v0.316.0 is Prometheus 3.16.0. remove_all_sd leaves out the service
  # discovery plugins (every cloud provider's SDK: most of a full build), which checking and
  # testing rules never use.
  promtool) pkg=github.com/prometheus/prometheus/cmd/promtool
        ldflags="-X github.com/prometheus/common/version.Version=3.16.0 -X github.com/prometheus/common/version.Branch=module"
        tags=remove_all_sd
        cold="about 3 minutes on 2 cores, about 19 while other Go builds run" ;;
  *) echo "build.sh: unknown tool $tool (helm, promtool)" >&2; exit 2 ;;
esac
dir="$here/$tool"
cache_root="${SWS_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/secure-workspace-operator}"
key="$( (printf '%s\n' "$pkg" "$ldflags" ${tags:+"$tags"}; cat "$dir/go.mod" "$dir/go.sum") | sha256sum | cut -c1-16)"
out="$cache_root/tool-$tool-$key"

if [ -x "$out/$tool" ]; then echo "$out/$tool"; exit 0; fi

mkdir -p "$cache_root"
# One builder per tool at a time (parallel make targets or test runs on a fresh machine).
exec 9>"$cache_root/tool-$tool.lock"
flock 9
if [ -x "$out/$tool" ]; then echo "$out/$tool"; exit 0; fi

export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-mod=mod
tmp="$out.tmp.$$"
mkdir -p "$tmp"
start=$(date +%s)
heartbeat() { while sleep 30; do echo "  ... still building $tool ($(( $(date +%s) - start ))s)" >&2; done; }
# Its stdout is not ours: a sleep left over after the kill would hold a caller's pipe open.
heartbeat >/dev/null & hb=$!
trap 'kill $hb 2>/dev/null; rm -rf "$tmp"' EXIT
cd "$dir"
echo "building $tool into $out (first build only, $cold)" >&2
echo "  downloading modules..." >&2
go mod download >&2
echo "  go build $tool ($(( $(date +%s) - start ))s so far)..." >&2
nice go build -trimpath -tags "${tags:-}" -ldflags "-s -w $ldflags" -o "$tmp/$tool" "$pkg" >&2
mv "$tmp" "$out"
echo "built $tool in $(( $(date +%s) - start ))s" >&2
echo "$out/$tool"
