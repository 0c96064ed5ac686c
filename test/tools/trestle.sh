#!/usr/bin/env bash
# Installs (once) IBM's compliance-trestle from PyPI, pinned, into a virtualenv outside the
# repository keyed by that pin, the Python minor version and this script, and prints the
# virtualenv's python. A warm run only checks the completion stamp. Used by the tests that validate
# `sws audit -o oscal` against trestle's OSCAL models (pydantic). 3.12.4 is the last release for
# OSCAL 1.1.x (its models accept oscal-version 1.1.0-1.1.3; trestle 4 and later model OSCAL 1.2).
# Needs python3 >= 3.9 with the venv module (Debian: apt-get install python3-venv).
set -euo pipefail
version=3.12.4
python="${PYTHON:-python3}"
cache_root="${SWS_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/secure-workspace-operator}"
key="$( (echo "$version"; "$python" -c 'import sys; print(sys.version_info[:2])'; cat "$0") | sha256sum | cut -c1-16)"
out="$cache_root/trestle-$key"

if [ -f "$out/.complete" ]; then echo "$out/bin/python"; exit 0; fi
mkdir -p "$cache_root"
exec 9>"$cache_root/trestle.lock"
flock 9
if [ -f "$out/.complete" ]; then echo "$out/bin/python"; exit 0; fi

# A virtualenv names its interpreter by absolute path, so it is built where it lives; the stamp
# marks it complete, and a failed install leaves nothing behind.
rm -rf "$out"
trap 'rm -rf "$out"' ERR
echo "installing compliance-trestle $version into $out (first run only, about a minute)" >&2
"$python" -m venv "$out" >&2
"$out/bin/python" -m pip install --quiet --disable-pip-version-check "compliance-trestle==$version" >&2
"$out/bin/python" -c "from trestle.oscal.assessment_results import AssessmentResults" >&2
touch "$out/.complete"
echo "$out/bin/python"
