#!/usr/bin/env bash
# Sets up everything seqpack needs on a fresh Debian 12 machine, and nothing else:
#   1. Debian packages (compiler cache, C++ libraries), with one `apt-get update` first;
#   2. a Python virtual environment outside the clone, keyed by the hash of
#      reference/requirements.txt, holding the pinned torch (and so LibTorch) and reference/'s needs;
#   3. into that venv, reference/requirements-test.txt (pytest, for reference/tests), apart so that
#      changing it never reinstalls torch.
# Idempotent: a second run checks, finds everything in place, and says so in one line.
# Messages go to stderr; with --print-venv the venv's path is the one line on stdout.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
requirements="$root/reference/requirements.txt"
test_requirements="$root/reference/requirements-test.txt"
cache_root="${SEQPACK_CACHE:-$HOME/.cache/seqpack}"
hash=$(sha256sum "$requirements" | cut -c1-12)
venv="$cache_root/venv-$hash"

# clang and libclang-rt-14-dev (libFuzzer's runtime) build the asan-ubsan preset; libgloo-dev has
# the gloo headers that c10d's ProcessGroupGloo header needs (the data-parallel parts,
# impl/CMakeLists.txt).
debian_packages=(ccache nlohmann-json3-dev libcli11-dev libfccp-dev
                 libgtest-dev libgmock-dev libbenchmark-dev valgrind cmake g++ ninja-build
                 clang libclang-rt-14-dev libgloo-dev)

fail() { echo "setup: $1" >&2; echo "setup: what to do: $2" >&2; exit 1; }
say() { echo "setup: $*" >&2; }
exec 3>&1 1>&2  # everything below prints to stderr; fd 3 keeps stdout for --print-venv

print_venv=0
for arg in "$@"; do
  case "$arg" in
    --print-venv) print_venv=1 ;;
    -h|--help) echo "usage: scripts/setup.sh [--print-venv]" >&2; exit 0 ;;
    *) fail "unknown argument '$arg'" "run scripts/setup.sh --help" ;;
  esac
done

did_something=0

missing=()
for p in "${debian_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""; [ "$(id -u)" = 0 ] || sudo="sudo"
  echo "setup: installing Debian packages: ${missing[*]}"
  $sudo apt-get update -q >/dev/null || fail "apt-get update failed" "check the network and /etc/apt/sources.list, then run again"
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q "${missing[@]}" >/dev/null \
    || fail "apt-get install ${missing[*]} failed" "run it by hand to see why, then run this script again"
  did_something=1
fi

# A venv is complete only once its stamp is written, so an interrupted install is redone.
if [ ! -f "$venv/.seqpack-complete" ]; then
  python=${SEQPACK_PYTHON:-python3}
  command -v "$python" >/dev/null || fail "no $python on PATH" "install Python 3.10 or newer"
  echo "setup: creating the Python environment $venv"
  echo "setup: (first time only: torch and its CUDA libraries are a few GB to download)"
  rm -rf "$venv"
  mkdir -p "$cache_root"
  "$python" -m venv "$venv" || fail "could not create a venv with $python" "install python3-venv"
  "$venv/bin/python" -m pip install -q --upgrade pip \
    || fail "could not upgrade pip in $venv" "check that PyPI is reachable"
  "$venv/bin/python" -m pip install --progress-bar on -r "$requirements" \
    | grep --line-buffered -E '^(Collecting|Downloading|Installing|Successfully)' \
    || fail "pip install -r $requirements failed" "read pip's message above; delete $venv and run again"
  "$venv/bin/python" -c "import torch, safetensors, numpy" \
    || fail "the new environment cannot import torch" "delete $venv and run again"
  touch "$venv/.seqpack-complete"
  did_something=1
fi
# The test requirements, stamped with their own hash: installed once, and again when they change.
test_stamp="$venv/.seqpack-test-$(sha256sum "$test_requirements" | cut -c1-12)"
if [ ! -f "$test_stamp" ]; then
  echo "setup: installing reference/'s test requirements into $venv"
  "$venv/bin/python" -m pip install -q -r "$test_requirements" \
    || fail "pip install -r $test_requirements failed" "read pip's message above, then run this script again"
  rm -f "$venv"/.seqpack-test-*
  touch "$test_stamp"
  did_something=1
fi
ln -sfn "$venv" "$cache_root/venv-current"

if [ "$did_something" = 0 ]; then
  say "everything is in place (Debian packages; Python environment $venv, with reference/'s test requirements)"
fi
if [ "$print_venv" = 1 ]; then echo "$venv" >&3; fi
