#!/usr/bin/env bash
# Profiles tawonctl while it traces a getppid loop with functions:ALL (perf record, as root).
# Prints the top symbols. Environment: CALLS (default 1000000).
set -euo pipefail
cd "$(dirname "$0")/.."
CALLS=${CALLS:-1000000}
command -v perf >/dev/null || apt-get install -y -qq linux-perf >/dev/null
source bench/common.sh
mkfifo "$work/go"
"$work/getppid_loop" "$CALLS" wait <"$work/go" >"$work/ns" &
loop=$!
exec 3>"$work/go"
perf record -g -o "$work/perf.data" .build/release/tawonctl run -c "process.pid:$loop" \
  -t "syscalls|functions:ALL" >/dev/null 2>"$work/err" &
for _ in $(seq 1 500); do grep -q "tracing directive" "$work/err" && break; sleep 0.01; done
echo go >&3
exec 3>&-
wait "$loop"
sleep 2
pkill -INT -f "tawonctl run -c process.pid:$loop"
wait
echo "loop: $(cat "$work/ns") ns/syscall; $(grep 'records written' "$work/err")"
perf report -i "$work/perf.data" ${PERF_REPORT_FLAGS:---no-children} --percent-limit 1 --stdio 2>/dev/null | grep -E "^ +[0-9]" | cut -c1-150 | head -${TOP:-45}
