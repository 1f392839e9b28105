#!/usr/bin/env bash
# The regression gate: sets up, builds (release), then
#   - counts instructions (callgrind) and compares them with perf/baselines/instructions.json, and
#   - builds the base commit (--base REF, default $SEQPACK_GATE_BASE or HEAD~1) under build/gate-base/
#     and times this build's workers against the base's in the same paired rounds (perf/gate.py).
# Exit 1 on a regression, 2 when the machine was too busy to judge (one line says why).
#   scripts/gate.sh [--only instructions|timings] [--base REF]
#   scripts/gate.sh --update --only instructions          re-count and rewrite the committed counts
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
command=check
if [ "${1:-}" = "--update" ]; then command=update; shift; fi
setup_and_build release
"$SEQPACK_PYTHON" perf/gate.py "$command" --build build/release "$@"
