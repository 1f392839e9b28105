# Sourced by the scripts: set-up (quiet when everything is in place), then configure and build one
# CMake preset, showing the build's progress only when there is something to build.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

setup_and_build() {
  local preset=$1
  venv=$(bash scripts/setup.sh --print-venv)
  [ -x "$venv/bin/python" ] || { echo "seqpack: set-up did not produce a Python environment" >&2; exit 1; }
  export SEQPACK_PYTHON="$venv/bin/python"
  local log="build/$preset.configure.log"
  mkdir -p build
  if [ ! -f "build/$preset/build.ninja" ] || [ CMakePresets.json -nt "build/$preset/build.ninja" ]; then
    echo "seqpack: configuring the $preset build"
    cmake --preset "$preset" -DSEQPACK_PYTHON="$SEQPACK_PYTHON" >"$log" 2>&1 \
      || { cat "$log" >&2; echo "seqpack: configuring failed (log above, also in $log)" >&2; exit 1; }
  fi
  # Ninja prints one [done/total] line per step; say nothing when it has nothing to do.
  set +e
  cmake --build --preset "$preset" 2>&1 | grep -v '^ninja: no work to do'
  local status=${PIPESTATUS[0]}
  set -e
  [ "$status" = 0 ] || { echo "seqpack: the build failed (see the errors above)" >&2; exit 1; }
}
