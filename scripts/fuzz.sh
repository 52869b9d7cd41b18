#!/usr/bin/env bash
# Fuzzes what users hand tawon with libFuzzer: conditions, task specs, tawond's YAML configuration
# and control API request bodies (Sources/tawon-fuzz). Each target runs SECONDS_EACH seconds
# (default 600) from the seeds in Fuzz/corpus/TARGET; a crash, a hang over 10 s or a multi-line
# error fails the run and leaves the input in .build/fuzz-artifacts/. As any user; CI runs
# SECONDS_EACH=15. Replay an input with: swift run tawon-fuzz TARGET FILE.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_EACH=${SECONDS_EACH:-600}
TARGETS=${TARGETS:-conditions tasks config api}
# FUZZ_CONFIG=debug FUZZ_BUILD_PATH=.build reuses the test build's dependencies (CI: minutes
# saved); the default keeps the fuzzer's build apart from yours, optimized.
FUZZ_CONFIG=${FUZZ_CONFIG:-release}
FUZZ_BUILD_PATH=${FUZZ_BUILD_PATH:-.build/fuzz}

TAWON_FUZZ=1 swift build -c "$FUZZ_CONFIG" --product tawon-fuzz --build-path "$FUZZ_BUILD_PATH" >/dev/null
binary=$FUZZ_BUILD_PATH/$FUZZ_CONFIG/tawon-fuzz
mkdir -p .build/fuzz-artifacts
status=0
for target in $TARGETS; do
  corpus=$(mktemp -d /tmp/tawon-fuzz-"$target"-XXXXXX)
  log="$corpus.log"
  # New inputs go to the scratch corpus; the committed seeds are only read.
  # Swift's own crash reporter would take the signal from libFuzzer, which saves the input.
  if SWIFT_BACKTRACE=enable=no TAWON_FUZZ_TARGET=$target "$binary" -max_total_time="$SECONDS_EACH" -timeout=10 -rss_limit_mb=2048 \
      -print_final_stats=1 -artifact_prefix=".build/fuzz-artifacts/$target-" "$corpus" "Fuzz/corpus/$target" \
      >"$log" 2>&1; then
    runs=$(sed -nE 's/^stat::number_of_executed_units: *([0-9]+)/\1/p' "$log")
    speed=$(sed -nE 's/^stat::average_exec_per_sec: *([0-9]+)/\1/p' "$log")
    coverage=$(grep -oE 'cov: [0-9]+ ft: [0-9]+' "$log" | tail -1)
    echo "fuzz $target: ${runs:-?} inputs in ${SECONDS_EACH}s (${speed:-?}/s), $coverage, no failure"
  else
    echo "fuzz $target: FAILED (input kept in .build/fuzz-artifacts/$target-*):" >&2
    grep -E "==ERROR|Fatal error|Precondition failed|deadly signal|timeout" "$log" | head -5 >&2
    status=1
  fi
  rm -rf "$corpus" "$log"
done
exit $status
