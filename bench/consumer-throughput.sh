#!/usr/bin/env bash
# How fast tawonctl turns kernel records into JSON lines: a getppid loop makes CALLS syscalls
# under functions:ALL with a ring buffer large enough to hold them all (nothing lost), and the
# time from the loop's start until the last line is written gives records per second.
# Environment: CALLS (default 1000000), RING_MB (default 256).
set -euo pipefail
cd "$(dirname "$0")/.."
CALLS=${CALLS:-1000000}
RING_MB=${RING_MB:-256}
source bench/common.sh
mkfifo "$work/go"
"$work/getppid_loop" "$CALLS" wait <"$work/go" >"$work/ns" &
loop=$!
exec 3>"$work/go"
${PROFILE:+perf record -g -o "$work/perf.data"} .build/release/tawonctl run --ring-buffer-mb "$RING_MB" -c "process.pid:$loop" \
  -t "syscalls|functions:ALL" >"$work/out" 2>"$work/err" &
launched=$!  # tawonctl, or perf running it
tracer=$launched
for _ in $(seq 1 500); do grep -q "tracing directive" "$work/err" && break; sleep 0.01; done
[ -n "${PROFILE:-}" ] && tracer=$(pgrep -P "$launched")
start=$(date +%s%N)
echo go >&3
exec 3>&-
wait "$loop"
lines=0
for _ in $(seq 1 600); do  # at most 60 s
  lines=$(wc -l <"$work/out")
  [ "$lines" -ge "$CALLS" ] && break
  sleep 0.1
done
end=$(date +%s%N)
kill -INT "$tracer"
wait "$launched"
ms=$(( (end - start) / 1000000 ))
echo "$lines of $CALLS records as JSON in $ms ms: $(( lines * 1000 / (ms > 0 ? ms : 1) )) records/s"
[ -n "${PROFILE:-}" ] && perf report -i "$work/perf.data" ${PERF_ARGS:---no-children --percent-limit 0.8} --stdio 2>/dev/null | grep -E "^ +[0-9]" | cut -c1-160
echo "loop while traced: $(cat "$work/ns") ns/syscall; $(tail -1 "$work/err")"
