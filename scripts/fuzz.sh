#!/usr/bin/env bash
# Fuzzes seqpack with libFuzzer. Sets up and builds the asan-ubsan preset (clang, ASan + UBSan; the
# whole build, whose impl/fuzz programs are libFuzzer programs), then runs each target for S seconds
# on a scratch copy of its committed corpus plus its regressions (the committed corpus is never
# written), with its dictionary. A regression that still crashes (a known bug not yet fixed) is
# reported and counts as a crash, but is left out of the fuzzing corpus, so that the target still
# spends its time looking for new ones.
#   scripts/fuzz.sh [--seconds S] [--target NAME] [--long]
# --long: 600 s per target unless --seconds says otherwise; starts from the results of earlier long
# runs too, and merges what found new coverage (-merge=1) into
# build/asan-ubsan/fuzzing/corpus/<target>/.
# Prints one line per target; exits 1 if any target crashed, naming the artifact (a crash-, leak-,
# timeout- or oom- file in build/asan-ubsan/fuzzing/artifacts/<target>/; replay it with
# `build/asan-ubsan/impl/fuzz/<target> FILE`, and once understood, keep it in
# impl/fuzz/regressions/<target>/).
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

targets=()  # default: every target the build made (SEQPACK_FUZZ_TARGETS in impl/fuzz/CMakeLists.txt)
seconds=""
long=0
while [ $# -gt 0 ]; do
  case $1 in
    --seconds) seconds=$2; shift 2 ;;
    --target) targets=("$2"); shift 2 ;;
    --long) long=1; shift ;;
    *) echo "usage: scripts/fuzz.sh [--seconds S] [--target NAME] [--long]" >&2; exit 2 ;;
  esac
done
[ -n "$seconds" ] || { [ "$long" = 1 ] && seconds=600 || seconds=45; }

setup_and_build asan-ubsan
programs=$root/build/asan-ubsan/impl/fuzz
if [ ${#targets[@]} = 0 ]; then
  mapfile -t targets < <(find "$programs" -maxdepth 1 -type f -name '*_fuzz' -executable -printf '%f\n' | sort)
fi

fuzz_src=$root/impl/fuzz
work=$root/build/asan-ubsan/fuzzing  # scratch corpora, artifacts, logs
dicts=$fuzz_src/dictionaries
mkdir -p "$work/dictionaries"
# libFuzzer takes one dictionary: eval_fuzz's input holds a command line, safetensors and JSON.
cat "$dicts/cli.dict" "$dicts/safetensors.dict" "$dicts/json.dict" >"$work/dictionaries/eval_fuzz.dict"

dictionary_of() {
  case $1 in
    params_fuzz) echo "$dicts/json.dict" ;;
    eval_fuzz) echo "$work/dictionaries/eval_fuzz.dict" ;;
    *) echo "$dicts/safetensors.dict" ;;
  esac
}

crashed=0
for target in "${targets[@]}"; do
  binary=$programs/$target
  [ -x "$binary" ] || { echo "seqpack: no fuzz target $target in build/asan-ubsan/impl/fuzz/" >&2; exit 2; }
  scratch=$work/scratch/$target
  artifacts=$work/artifacts/$target
  results=$work/corpus/$target
  log=$work/logs/$target.log
  rm -rf "$scratch"
  mkdir -p "$scratch" "$artifacts" "$(dirname "$log")"
  cp "$fuzz_src/corpus/$target"/* "$scratch"/
  if [ "$long" = 1 ] && [ -d "$results" ]; then cp "$results"/* "$scratch"/ 2>/dev/null || true; fi
  still_crashing=()
  for regression in "$fuzz_src/regressions/$target"/*; do
    [ -f "$regression" ] || continue
    replay_log=$work/logs/$target.regression.$(basename "$regression").log
    if "$binary" -rss_limit_mb=4096 -timeout=20 -artifact_prefix="$work/logs/$target.regression." "$regression" \
         >"$replay_log" 2>&1; then
      cp "$regression" "$scratch"/
    else
      still_crashing+=("$regression (log: $replay_log)")
    fi
  done

  marker=$(mktemp)
  start=$(date +%s)
  set +e
  "$binary" -dict="$(dictionary_of "$target")" -max_total_time="$seconds" -rss_limit_mb=4096 -timeout=20 \
    -print_final_stats=1 -artifact_prefix="$artifacts/" "$scratch" >"$log" 2>&1
  status=$?
  set -e
  elapsed=$(( $(date +%s) - start ))
  executions=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  [ -n "$executions" ] || executions=$(grep -oE '^#[0-9]+' "$log" | tail -1 | tr -d '#')
  mapfile -t found < <(find "$artifacts" -type f -newer "$marker" | sort)
  rm -f "$marker"
  echo "fuzz $target: ${executions:-0} executions in $elapsed s, $(( ${#found[@]} + ${#still_crashing[@]} )) crashes"
  for artifact in "${found[@]}"; do echo "  artifact: $artifact (log: $log)"; done
  for regression in "${still_crashing[@]}"; do echo "  regression still crashes: $regression"; done
  if [ "${#found[@]}" -gt 0 ] || [ "${#still_crashing[@]}" -gt 0 ]; then
    crashed=1
  elif [ "$status" != 0 ]; then
    echo "  libFuzzer exited with status $status and no artifact (log: $log)"
    crashed=1
  elif [ "$long" = 1 ]; then
    mkdir -p "$results"
    "$binary" -merge=1 "$results" "$scratch" >"$work/logs/$target.merge.log" 2>&1
    echo "  merged into $results ($(find "$results" -type f | wc -l) inputs)"
  fi
done
exit $crashed
