#!/usr/bin/env bash
# Runs a command and, while it runs, says so on stderr every 30 s: a cold Go build (the control
# plane: 10-20 minutes) is otherwise silent for minutes between its progress lines. A warm run
# (under 30 s) prints nothing. The command's exit code is this script's.
#
#   test/tools/heartbeat.sh LABEL COMMAND [ARG...]
#
# A wrapper rather than a loop inside test/apiserver/build.sh: that script's own text is part of
# its cache key, and changing it would rebuild the cached control plane everywhere.
set -euo pipefail
label="${1:?usage: $0 LABEL COMMAND [ARG...]}"
shift
start=$(date +%s)
# stdout to /dev/null: a sleep left over after the kill must not hold the caller's pipe open.
(while sleep 30; do echo "  ... $label: still running ($(($(date +%s) - start))s)" >&2; done) >/dev/null &
hb=$!
trap 'kill $hb 2>/dev/null || true' EXIT
"$@"
