#!/usr/bin/env bash
# Sets up, builds, and runs every test through ctest: unit tests, one test per family of golden
# cases, the golden freshness check and the CLI black-box check. JUnit XML: build/<preset>/junit.xml.
#   scripts/test.sh [--preset release|dev|asan-ubsan] [extra ctest arguments, e.g. -L unit]
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
preset=release
if [ "${1:-}" = "--preset" ]; then preset=$2; shift 2; fi
setup_and_build "$preset"
echo "seqpack: running the tests ($preset build)"
ctest --preset "$preset" -j "$(nproc)" --output-junit junit.xml "$@"
