#!/usr/bin/env bash
# The mutation check (conformance/mutation/): applies each fault of conformance/mutation/faults.json
# alone to an exported copy of a commit, rebuilds, runs the tests that should notice it, and writes
# reports/mutation/<date>-<commit>.json and .md. Not part of CI: ~1-2 minutes a fault on 2 cores,
# plus a first build of the scratch tree. The working tree is never modified.
#   scripts/mutation_check.sh [--commit REV] [--only ID ...] [--list] [--keep-going] [--jobs N] ...
# (all options: scripts/mutation_check.sh --help). On a shared machine: nice -n 5 scripts/mutation_check.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
venv=$(bash scripts/setup.sh --print-venv)
[ -x "$venv/bin/python" ] || { echo "seqpack: set-up did not produce a Python environment" >&2; exit 1; }
exec "$venv/bin/python" conformance/mutation/mutation_check.py --python "$venv/bin/python" "$@"
