#!/usr/bin/env bash
# The regression gate: sets up, builds (release), then compares instruction counts (callgrind) and
# measured ratios (paired rounds) with the committed baselines in perf/baselines/. Exit 1 on an
# instruction count beyond its margin either way, or on a ratio whose fall beyond its margin is
# significant (see perf/gate.py; its error rates are in docs/measurement.md); the tables say which.
#   scripts/gate.sh [--only instructions|ratios]            check
#   scripts/gate.sh --update [--only instructions|ratios]   re-measure and rewrite the baselines
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
command=check
if [ "${1:-}" = "--update" ]; then command=update; shift; fi
setup_and_build release
"$SEQPACK_PYTHON" perf/gate.py "$command" --build build/release "$@"
