#!/usr/bin/env bash
# The main job: sets up, builds, runs the conformance suite and prints its summary, written to
# reports/latest/conformance.md. (The benchmark matrix joins this job when perf/ exists.)
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
setup_and_build release
echo "seqpack: running the conformance suite"
status=0
rm -rf build/release/conformance-results
ctest --preset release -j "$(nproc)" -L conformance --output-junit conformance-junit.xml >build/release/conformance.log 2>&1 \
  || status=$?
mkdir -p reports/latest
"$SEQPACK_PYTHON" scripts/conformance_summary.py build/release/conformance-results build/release/conformance-junit.xml reports/latest/conformance.md
[ "$status" = 0 ] || echo "seqpack: some conformance tests failed; ctest's log is build/release/conformance.log" >&2
exit "$status"
