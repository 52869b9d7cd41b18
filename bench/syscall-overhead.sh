#!/usr/bin/env bash
# ns per syscall of a getppid loop, medians of interleaved rounds (as root):
#   (a) without tawon
#   (f) with an empty program at sys_enter: the floor of any sys_enter tracer, tawon included
#   (g) with empty programs at sys_enter and sys_exit: the floor of a tracer of return values
#   (e) while tawon traces another process at entry only (functions:ALL;entryOnly:true)
#   (b) while tawon traces another process, calls with their returns (functions:ALL, the default)
#   (c) while tawon traces this one with functions:ALL and full decoding, JSON to /dev/null
# and the events lost in (c). Targets: (e) <= (f) + 40 ns, (b) <= (g) + 40 ns; (c) <= 3 x (a)
# with 0 lost.
# Environment: RUNS (rounds, default 7), CALLS (syscalls per run, default 1000000),
# RING_MB (tawon's ring buffer in MiB, default 16: the default of tawonctl run),
# TAWONCTL (another build's tawonctl, with its plugins beside it, for A/B).
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-7}
CALLS=${CALLS:-1000000}
RING_MB=${RING_MB:-16}

scripts/install-deps.sh
REBUILD=1 source bench/common.sh
# The floor: an empty program at sys_enter, built by the clang of Swift's toolchain (as tawon's
# own programs are), and a loader that attaches it.
"$(dirname "$(readlink -f "$(command -v swift)")")/clang" -O2 -g -target bpf \
  -c bench/empty_sys_enter.bpf.c -o "$work/empty_sys_enter.bpf.o"
"$(dirname "$(readlink -f "$(command -v swift)")")/clang" -O2 -g -target bpf \
  -c bench/empty_sys_enter_exit.bpf.c -o "$work/empty_sys_enter_exit.bpf.o"
cc -O2 -o "$work/bpf_attach" bench/bpf_attach.c -lbpf
tawonctl=${TAWONCTL:-.build/release/tawonctl}  # another build, with its plugins beside it, for A/B
trap 'rm -rf "$work"; for p in ${sleeper:-} ${empty:-}; do kill "$p" 2>/dev/null || true; done' EXIT

median() { sort -n | awk '{v[NR]=$1} END {print (NR%2 ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2)}'; }

# Starts tawonctl run in the background and waits until its directive is in the kernel.
start_tracer() {  # $1 condition, $2 stderr file, $3 more task options
  "$tawonctl" run --ring-buffer-mb "$RING_MB" -c "$1" -t "syscalls|functions:ALL${3:-}" >/dev/null 2>"$2" &
  tracer=$!
  for _ in $(seq 1 500); do grep -q "tracing directive" "$2" && return 0; sleep 0.01; done
  echo "tracer did not start: $(cat "$2")" >&2; exit 1
}
stop_tracer() { kill -INT "$tracer"; wait "$tracer"; }

attach_empty() {  # $1 the object
  "$work/bpf_attach" "$work/$1" >"$work/f.out" &
  empty=$!
  for _ in $(seq 1 500); do grep -q attached "$work/f.out" && return 0; sleep 0.01; done
  echo "the empty program did not attach" >&2; exit 1
}

sleep 600 & sleeper=$!
: >"$work/a" ; : >"$work/f" ; : >"$work/g" ; : >"$work/e" ; : >"$work/b" ; : >"$work/c" ; : >"$work/lost" ; : >"$work/written"
for round in $(seq 1 "$RUNS"); do
  "$work/getppid_loop" "$CALLS" >>"$work/a"

  attach_empty empty_sys_enter.bpf.o
  "$work/getppid_loop" "$CALLS" >>"$work/f"
  kill -INT "$empty"; wait "$empty"

  attach_empty empty_sys_enter_exit.bpf.o
  "$work/getppid_loop" "$CALLS" >>"$work/g"
  kill -INT "$empty"; wait "$empty"

  start_tracer "process.pid:$sleeper" "$work/e.err" ";entryOnly:true"
  "$work/getppid_loop" "$CALLS" >>"$work/e"
  stop_tracer

  start_tracer "process.pid:$sleeper" "$work/b.err"
  "$work/getppid_loop" "$CALLS" >>"$work/b"
  stop_tracer

  mkfifo "$work/go"
  "$work/getppid_loop" "$CALLS" wait <"$work/go" >>"$work/c" &
  loop=$!
  exec 3>"$work/go"
  start_tracer "process.pid:$loop" "$work/c.err"
  echo go >&3
  exec 3>&-
  wait "$loop"
  stop_tracer
  rm "$work/go"
  summary=$(grep "records written" "$work/c.err")
  echo "$summary" | sed -E 's/.*lost: ([0-9]+) \(ring buffer full\).*/\1/' >>"$work/lost"
  echo "$summary" | sed -E 's/^tawonctl: ([0-9]+) records written.*/\1/' >>"$work/written"
done

a=$(median <"$work/a"); f=$(median <"$work/f"); g=$(median <"$work/g"); e=$(median <"$work/e")
b=$(median <"$work/b"); c=$(median <"$work/c")
lost=$(sort -n "$work/lost" | tail -1); written=$(median <"$work/written")
cat <<REPORT
getppid loop, $CALLS calls per run, ring buffer $RING_MB MiB, median of $RUNS interleaved rounds ($(nproc) CPUs, $(uname -r))
  (a) without tawon                        $a ns/syscall
  (f) an empty program at sys_enter        $f ns/syscall   (+$(awk "BEGIN{printf \"%.1f\", $f-$a}") ns: the floor of any sys_enter tracer)
  (g) empty programs at enter and exit     $g ns/syscall   (+$(awk "BEGIN{printf \"%.1f\", $g-$a}") ns: the floor of a tracer of returns)
  (e) tawon tracing another, entry only    $e ns/syscall   (+$(awk "BEGIN{printf \"%.1f\", $e-$a}") ns, +$(awk "BEGIN{printf \"%.1f\", $e-$f}") over (f); target <= +40)
  (b) tawon tracing another, with returns  $b ns/syscall   (+$(awk "BEGIN{printf \"%.1f\", $b-$a}") ns, +$(awk "BEGIN{printf \"%.1f\", $b-$g}") over (g); target <= +40)
  (c) tawon tracing it, functions:ALL      $c ns/syscall   ($(awk "BEGIN{printf \"%.2f\", $c/$a}") x; target <= 3 x)
      records written in (c): median $written of $CALLS; lost (ring buffer full): at most $lost per run
REPORT
