#!/usr/bin/env bash
# The main job: sets up, builds, runs the conformance suite and prints its summary, then measures
# the benchmark matrix (C++ and Python arms in paired rounds, perf/run_matrix.py) and writes a report.
#   scripts/run.sh [--full] [--name NAME] [--device auto|cpu|cuda[:N]]
# Writes reports/NAME/ (default reports/latest/, not committed): conformance.md, results.csv,
# rounds.json, machine.json, report.md and its plots. --full runs the whole matrix instead of the
# quick profile; --device (default auto: a GPU when there is one) is where the benchmarks run.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
profile=quick
name=latest
device=auto
while [ $# -gt 0 ]; do
  case "$1" in
    --full) profile=full; shift ;;
    --name) name=$2; shift 2 ;;
    --device) [ $# -ge 2 ] || { echo "$(basename "$0"): --device needs a value (cpu, cuda or cuda:N)" >&2; exit 2; }
      device=$2; shift 2 ;;
    *) echo "usage: scripts/run.sh [--full] [--name NAME] [--device auto|cpu|cuda[:N]]" >&2; exit 2 ;;
  esac
done
report="reports/$name"
setup_and_build release
mkdir -p "$report"

total=$(ctest --preset release -L conformance -N | sed -n 's/^Total Tests: //p')
echo "seqpack: running the conformance suite ($total test families; a line every 10%)"
status=0
rm -rf build/release/conformance-results
# ctest prints "k/N Test #..." as each test ends; show every tenth of them, keep all in the log.
set +e
ctest --preset release -j "$(nproc)" -L conformance --output-junit conformance-junit.xml 2>&1 \
  | tee build/release/conformance.log \
  | awk -v total="$total" '/^ *[0-9]+\/[0-9]+ Test/ { done++; if (done * 10 >= (shown + 1) * total) { shown++; \
      printf "[conformance %d/%d] %s\n", done, total, $4; fflush() } }'
status=${PIPESTATUS[0]}
set -e
"$SEQPACK_PYTHON" scripts/conformance_summary.py build/release/conformance-results build/release/conformance-junit.xml \
  "$report/conformance.md"
[ "$status" = 0 ] || echo "seqpack: some conformance tests failed; ctest's log is build/release/conformance.log" >&2

echo "seqpack: running the $profile benchmark matrix (a line per point, with the time left)"
"$SEQPACK_PYTHON" perf/run_matrix.py --profile "$profile" --device "$device" --build build/release --out "$report"
"$SEQPACK_PYTHON" perf/report.py "$report"
exit "$status"
