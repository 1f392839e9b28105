#!/usr/bin/env bash
# Which path should your data take? Sets up, builds (release), then runs perf/advise.py on your
# lengths (docs/your-data.md) from the folder you called it in; every argument goes to it. E.g.:
#   bash scripts/advise.sh perf/datasets/plaid.csv --rule scale --model transformer_lstm --batch 64 --measure
caller=$PWD
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
setup_and_build release >&2
cd "$caller"
exec "$SEQPACK_PYTHON" "$root/perf/advise.py" --build "$root/build/release" "$@"
