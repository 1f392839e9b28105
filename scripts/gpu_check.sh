#!/usr/bin/env bash
# The GPU check: on one device, the conformance suite (the float64 goldens within their
# tolerance), the CUDA kernels' tests, and a short profile reproducing the original's experiment
# (TransformerLSTM, B = 64, its five PyTorch modes beside seqpack's C++ paths; perf/profiles.json
# "gpu") with its report.
#   scripts/gpu_check.sh [--device cpu|cuda|cuda:N]     (default cuda)
# Writes reports/gpu-check-<device>/ (conformance.md, results.csv, machine.json, report.md, times.txt).
# About 10 minutes on one GPU; --device cpu runs the same steps on the CPU (under 10 minutes on 2
# cores), so that the script itself is checked where there is no GPU. Asking for CUDA where there is
# none fails at once, in one line.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
device=cuda
while [ $# -gt 0 ]; do
  case "$1" in
    --device) [ $# -ge 2 ] || { echo "$(basename "$0"): --device needs a value (cpu, cuda or cuda:N)" >&2; exit 2; }
      device=$2; shift 2 ;;
    *) echo "usage: scripts/gpu_check.sh [--device cpu|cuda|cuda:N]" >&2; exit 2 ;;
  esac
done
# Resolved once, before anything is built or run: a device that is not here is refused in one line.
venv=$(bash scripts/setup.sh --print-venv)
label=$(cd reference && "$venv/bin/python" -c '
import sys
from seqpack_reference.perf.device import DeviceError, device_label, parse_device
try:
    print(device_label(parse_device(sys.argv[1], "--device")))
except DeviceError as error:
    sys.exit(f"gpu_check.sh: {error}")' "$device")
setup_and_build release
report="reports/gpu-check-${label/:/}"
mkdir -p "$report"
times="$report/times.txt"
: >"$times"
status=0
started=$SECONDS
part() {  # part NAME COMMAND...: runs it, notes its time, remembers a failure and goes on
  local name=$1 begin=$SECONDS
  shift
  echo "seqpack: gpu check on $label: $name"
  "$@" || { status=1; echo "seqpack: gpu check: $name failed" >&2; }
  echo "$name: $((SECONDS - begin)) s" | tee -a "$times"
}

# The conformance runner runs its cases on SEQPACK_DEVICE (float64 goldens on the GPU
# within the case's tolerance). The checks of the seqpack command and the freshness of the goldens do
# not depend on the device (the CPU's scripts/test.sh runs them; on 2 cores they take 9 minutes).
conformance() {
  rm -rf build/release/conformance-results
  SEQPACK_DEVICE=$label ctest --preset release -j "$(nproc)" -L conformance -LE cli \
    -E '^(hostile|golden|reference)\.' --output-junit conformance-junit.xml \
    >build/release/gpu-check-conformance.log 2>&1
  local result=$?
  "$SEQPACK_PYTHON" scripts/conformance_summary.py build/release/conformance-results \
    build/release/conformance-junit.xml "$report/conformance.md"
  [ "$result" = 0 ] || echo "seqpack: conformance failures; the log is build/release/gpu-check-conformance.log" >&2
  return "$result"
}
part conformance conformance
part "cuda kernel tests" ctest --preset release -L cuda --output-on-failure
part "profile gpu" "$SEQPACK_PYTHON" perf/run_matrix.py --profile gpu --device "$label" --build build/release \
  --out "$report"
part report "$SEQPACK_PYTHON" perf/report.py "$report"
echo "total: $((SECONDS - started)) s" | tee -a "$times"
exit "$status"
