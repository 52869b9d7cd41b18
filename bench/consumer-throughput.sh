#!/usr/bin/env bash
# How fast tawonctl turns kernel records into JSON lines: a getppid loop makes CALLS syscalls
# under functions:ALL with a ring buffer large enough to hold them all (nothing lost), output to
# /dev/null. The time from the loop's start until tawonctl stops using the CPU (it has drained
# the ring) gives records per second; the counts are tawonctl's own summary. The CPU time
# tawonctl used per record is steadier than the wall clock on a busy machine: compare builds by it.
# Environment: CALLS (default 1000000), RING_MB (default 256), OUT (default /dev/null),
# OPTIONS (appended to the syscalls task's options, e.g. ";entryOnly:true"),
# PROFILE=1 (perf record the consumer and print its top symbols; KEEP=FILE keeps perf.data),
# TAWONCTL (another build's tawonctl, which loads the plugins beside it, to compare two builds in
# one run).
set -euo pipefail
cd "$(dirname "$0")/.."
CALLS=${CALLS:-1000000}
RING_MB=${RING_MB:-256}
OUT=${OUT:-/dev/null}
source bench/common.sh
mkfifo "$work/go"
"$work/getppid_loop" "$CALLS" wait <"$work/go" >"$work/ns" &
loop=$!
exec 3>"$work/go"
${PROFILE:+perf record -g -o "$work/perf.data"} "${TAWONCTL:-.build/release/tawonctl}" run --ring-buffer-mb "$RING_MB" -c "process.pid:$loop" \
  -t "syscalls|functions:ALL${OPTIONS:-}" >"$OUT" 2>"$work/err" &
launched=$!  # tawonctl, or perf running it
tracer=$launched
for _ in $(seq 1 500); do grep -q "tracing directive" "$work/err" && break; sleep 0.01; done
[ -n "${PROFILE:-}" ] && tracer=$(pgrep -P "$launched")
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }  # utime + stime, in clock ticks
ticks_before=$(cpu_ticks "$tracer")
start=$(date +%s%N)
echo go >&3
exec 3>&-
wait "$loop"
end=$(bench/wait-idle.sh "$tracer")
ticks=$(( $(cpu_ticks "$tracer") - ticks_before ))
kill -INT "$tracer"
wait "$launched"
ms=$(( (end - start) / 1000000 ))
written=$(grep -o '[0-9]* records written' "$work/err" | cut -d' ' -f1)
echo "$written of $CALLS records as JSON in $ms ms: $(( written * 1000 / (ms > 0 ? ms : 1) )) records/s;" \
  "CPU $(awk "BEGIN{printf \"%.0f\", $ticks * 1e9 / $(getconf CLK_TCK) / $written}") ns per record"
[ -n "${PROFILE:-}" ] && [ -n "${KEEP:-}" ] && cp "$work/perf.data" "$KEEP"
[ -n "${PROFILE:-}" ] && perf report -i "$work/perf.data" ${PERF_ARGS:---no-children --percent-limit 0.8} --stdio 2>/dev/null | grep -E "^ +[0-9]" | cut -c1-160
echo "loop while traced: $(cat "$work/ns") ns/syscall; $(tail -1 "$work/err")"
