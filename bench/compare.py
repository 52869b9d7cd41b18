#!/usr/bin/env python3
"""tawon's benchmarks, as root: every measurement of bench/ in one place.

Subcommands (`bench/compare.sh SUBCOMMAND` runs them as root; `all` when none is given):

  all        The full comparison with strace, perf trace and bpftrace on the same machine and
             workloads: overhead on the traced process (getppid loop, mixed open/read/write/close
             loop) and events lost per tool, tawon's sustained lossless rate, the daemon's
             start-up and memory, the fidelity of tawon's decoding against strace's. Installs the
             peers if missing, writes REPORT (default docs/performance.md) and prints it.
  overhead   ns/syscall of a getppid loop bare, under the empty-program floors, while tawon traces
             another process (and at entry only), and while tawon traces the loop with
             functions:ALL; events lost; then, in the kernel's accounting of BPF run time, what
             tawon's programs and the empty one cost per syscall of the loop; the targets.
             Printed only.
  throughput tawon's sustained rate alone (the section of `all`), printed only.
  daemon     tawond's start-to-ready time and its RSS idle and tracing (the section of `all`).
  consumer   How fast tawonctl turns kernel records into JSON lines: a getppid loop makes CALLS
             syscalls under functions:ALL with a ring buffer large enough to hold them all, output
             to OUT; records/s from the loop's start until tawonctl stops using the CPU (it has
             drained the ring), and tawonctl's CPU time per record (steadier than the wall clock
             on a busy machine: compare builds by it). PROFILE=1 runs it under perf record and
             prints its top symbols.

Every measurement of the traced process is a median of RUNS interleaved rounds (each round runs
every row once, so noise hits every row alike); ratios are to the bare run of the same rounds.

Environment:
  RUNS          rounds (default 5; overhead: 7)
  CALLS         syscalls per run (default 1000000)
  SLOW_CALLS    syscalls per run under strace and perf trace (default 100000)
  WORKLOADS     loops measured for overhead (all: getppid,mixed; overhead: getppid)
  RING_MB       overhead, all: the fixed ring buffer row's MiB (default 16);
                consumer: tawonctl's ring buffer (default 256; "default": no --ring-buffer-mb)
  RATES         throughput steps in getppid/s (default 250000,500000,750000,1000000,1500000,2000000)
  SECONDS       seconds per throughput step (default 10)
  DAEMON_STARTS tawond starts timed (default 5)
  TAWONCTL      the tawonctl measured (default .build/release/tawonctl; another build's loads the
                plugins beside it)
  BASELINE      another build's tawonctl: its rows are measured in the same interleaved rounds
                (throughput: each rate right after this build's), prefixed "baseline: ", for a
                before/after from one run (all, overhead, throughput). It is given only run, -c,
                -t and --ring-buffer-mb, which old builds know.
  REPORT        where `all` writes its report (default docs/performance.md)
  BUILD         1: scripts/install-deps.sh and swift build -c release first; 0: never; unset: only
                when .build/release/tawonctl is missing (bench/compare.sh sets BUILD=1 unless
                given, except for consumer)
  IDLE_MS       how long a tracer must use no CPU to count as drained (default 300)
  consumer only: OPTIONS (appended to the syscalls task's options, e.g. ";entryOnly:true"),
                OUT (default /dev/null), PROFILE=1, KEEP=FILE (keeps perf.data), PERF_ARGS (perf
                report's options, default "--no-children --percent-limit 0.8"), TOP (symbols shown)
"""
import argparse, atexit, difflib, glob, json, os, re, shlex, shutil, signal, statistics, subprocess, sys, tempfile, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCH = os.path.join(ROOT, "bench")
RELEASE = os.path.join(ROOT, ".build", "release")
TAWONCTL = os.environ.get("TAWONCTL", os.path.join(RELEASE, "tawonctl"))
BASELINE = os.environ.get("BASELINE")
CALLS = int(os.environ.get("CALLS", 1_000_000))
SLOW_CALLS = int(os.environ.get("SLOW_CALLS", 100_000))
RATES = [int(r) for r in os.environ.get("RATES", "250000,500000,750000,1000000,1500000,2000000").split(",")]
SECONDS = float(os.environ.get("SECONDS", 10))
DAEMON_STARTS = int(os.environ.get("DAEMON_STARTS", 5))
IDLE_SECONDS = int(os.environ.get("IDLE_MS", 300)) / 1000
REPORT = os.environ.get("REPORT", os.path.join(ROOT, "docs", "performance.md"))
# Set by main() for the subcommand: their defaults differ.
RUNS = 5
RING_MB = 16
WORKLOADS = ["getppid", "mixed"]

WORK = tempfile.mkdtemp(prefix="tawon-bench-")
LOOP_SYSCALLS = {"getppid": {"getppid"}, "mixed": {"openat", "read", "write", "close"}}
LOOP_NUMBERS = {"getppid": {110}, "mixed": {257, 0, 1, 3}}
# The targets: an untraced process pays at most this over the floor of tawon's tracepoint, and a
# traced getppid loop at most this many times its bare cost, with nothing lost.
UNTRACED_TARGET_NS = 40
TRACED_TARGET_RATIO = 3
SUSTAINED_TARGET_RATE = 1_000_000
IDLE_RSS_TARGET_MIB = 40
SUSTAINED_TARGET_SECONDS = 10


# Setting up: tools, the build, the helper programs (compiled into WORK when first needed).

def run(command, **options):
    return subprocess.run(command, check=True, text=True, capture_output=True, **options)


def work(name):
    return os.path.join(WORK, name)


def ensure_tools(tools):
    """Installs the Debian packages of the tools in {command: package} that are missing."""
    missing = [package for tool, package in tools.items() if not shutil.which(tool)]
    if missing:
        run(["apt-get", "update", "-qq"])
        run(["apt-get", "install", "-y", "-qq"] + missing, env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"))


def build():
    built = os.access(os.path.join(RELEASE, "tawonctl"), os.X_OK)
    wanted = os.environ.get("BUILD")
    if wanted == "0" or (wanted is None and built):
        if not built and TAWONCTL == os.path.join(RELEASE, "tawonctl"):
            sys.exit(f"{TAWONCTL} is missing and BUILD=0")
        return
    subprocess.run(["bash", os.path.join(ROOT, "scripts/install-deps.sh")], check=True)
    subprocess.run(["swift", "build", "-c", "release"], cwd=ROOT, check=True, stdout=subprocess.DEVNULL)


def helper(name):
    """A bench/NAME.c program (the workload fixture for tawon-workload), compiled once."""
    binary = work(name)
    if not os.path.exists(binary):
        if name == "tawon-workload":
            run(["cc", "-O1", "-o", binary, os.path.join(ROOT, "Tests/HostTests/Fixtures/workload.c")])
        else:
            run(["cc", "-O2", "-o", binary, os.path.join(BENCH, name + ".c")] + (["-lbpf"] if name == "bpf_attach" else []))
    return binary


def bpf_object(name):
    """bench/NAME.bpf.c built by the clang of Swift's toolchain, as tawon's own programs are."""
    target = work(name + ".bpf.o")
    if not os.path.exists(target):
        clang = os.path.join(os.path.dirname(os.path.realpath(shutil.which("swift"))), "clang")
        run([clang, "-O2", "-g", "-target", "bpf", "-c", os.path.join(BENCH, name + ".bpf.c"), "-o", target])
    return target


# Processes. Everything started is ended when the run ends, however it ends: a loader or tracer
# left behind would slow every syscall of the machine.

STARTED = []  # (process, the pid of the tawonctl it runs when it is perf, else None)


def spawn(command, **options):
    process = subprocess.Popen(command, **options)
    STARTED.append((process, None))
    return process


@atexit.register
def cleanup():
    # Only processes not yet reaped (poll() is None): their pids cannot have been reused.
    for process, child in reversed(STARTED):
        if process.poll() is None:
            for pid in ([child] if child else []) + [process.pid]:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            process.wait()
    shutil.rmtree(WORK, ignore_errors=True)


signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so that cleanup runs


class Paused:
    """A loop that waits for a line on stdin, so a tracer can attach to its pid first."""

    def __init__(self, command):
        self.process = spawn(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.pid = self.process.pid

    def go(self):
        out, _ = self.process.communicate("go\n")
        if self.process.returncode != 0:
            raise RuntimeError(f"{self.process.args[0]} exited with {self.process.returncode}")
        return out


def wait_for_text(path, text, process=None, timeout=20):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if os.path.exists(path) and text in open(path, errors="replace").read():
            return
        if process is not None and process.poll() is not None:
            break
        time.sleep(0.01)
    raise RuntimeError(f"{path}: no '{text}': {open(path, errors='replace').read()[-500:]}")


def stop(process, sig=signal.SIGINT, timeout=120):
    process.send_signal(sig)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        wchan = open(f"/proc/{process.pid}/wchan").read() if os.path.exists(f"/proc/{process.pid}/wchan") else "?"
        process.kill()
        process.wait()
        raise RuntimeError(f"{process.args[0]} did not stop on {signal.Signals(sig).name} in {timeout} s "
                           f"(waiting in {wchan or '?'}): killed")


def settle(path, timeout=60):
    """Waits until a file stops growing (a tracer still writing what it buffered)."""
    last, deadline = -1, time.time() + timeout
    while time.time() < deadline:
        size = os.path.getsize(path)
        if size == last:
            return
        last = size
        time.sleep(0.3)


def cpu_ticks(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime of all its threads, in clock ticks


def wait_idle(pid, timeout=120):
    """Waits until a process has used no CPU for IDLE_MS; returns when it last did: a tracer
    writing to /dev/null had then drained its ring buffer."""
    last, changed, deadline = cpu_ticks(pid), time.time(), time.time() + timeout
    while time.time() < deadline and time.time() - changed < IDLE_SECONDS:
        time.sleep(0.01)
        now = cpu_ticks(pid)
        if now != last:
            last, changed = now, time.time()
    return changed


def children(pid):
    found = []
    for task in os.listdir(f"/proc/{pid}/task"):
        found += [int(child) for child in open(f"/proc/{pid}/task/{task}/children").read().split()]
    return found


# tawonctl run: started with only the flags every build knows (run, -c, -t, --ring-buffer-mb).

def start_tawon(condition, output, errors, binary=None, ring_mb=None, options="", wrapper=()):
    """tawonctl run tracing functions:ALL (plus `options`) of what `condition` selects, once its
    directive is in the kernel. ring_mb None: tawonctl's default ring buffer."""
    ring = [] if ring_mb is None else ["--ring-buffer-mb", str(ring_mb)]
    tracer = spawn(list(wrapper) + [binary or TAWONCTL, "run"] + ring + ["-c", condition, "-t", "syscalls|functions:ALL" + options],
                   stdout=open(output, "w"), stderr=open(errors, "w"))
    wait_for_text(errors, "tracing directive", tracer)
    return tracer


def read_summary(path):
    """tawonctl run's closing line: records emitted and records lost, by cause (causes an older
    build does not report count 0)."""
    text = open(path, errors="replace").read()
    # Older builds said "written" for what the tasks emitted.
    written = re.search(r"(\d+) records (?:emitted|written)", text)
    ring_full = re.search(r"lost: (\d+) \(ring buffer full\)", text)
    if not written or not ring_full:
        raise RuntimeError(f"no tawonctl summary in {path}: {text[-500:]}")
    summary = {"line": next(line for line in text.splitlines() if re.search(r"records (?:emitted|written)", line)),
               "written": int(written.group(1)), "ring_full": int(ring_full.group(1))}
    for key, cause in [("task_failures", "task failures"), ("output_slow", "output too slow"),
                       ("output_failed", "output write failed"), ("unread_at_exit", "unread at exit")]:
        found = re.search(rf"(\d+) \({cause}\)", text)
        summary[key] = int(found.group(1)) if found else 0
    summary["lost"] = (summary["ring_full"] + summary["task_failures"] + summary["output_slow"] + summary["output_failed"]
                       + summary["unread_at_exit"])
    return summary


def count_tawon(path, workload):
    names, count = LOOP_SYSCALLS[workload], 0
    for line in open(path):
        try:
            count += json.loads(line)["data"][0]["data"]["function"] in names
        except (ValueError, LookupError, TypeError):
            pass
    return count


# Overhead on the traced process. A row is a name and a function (workload, calls) -> (ns/syscall,
# the loop's events the tool delivered, or None where it delivers none).

BARE = "bare"
FLOOR_EXIT = "empty program at sys_exit (floor of a tracer at one syscall tracepoint)"
FLOOR_ENTER = "empty program at sys_enter (floor of any sys_enter tracer)"
UNTRACED = "tawon, tracing another process"
UNTRACED_ENTRY = "tawon, tracing another process (entryOnly:true)"
TRACED_DEFAULT = "tawon, tracing it (ALL, default configuration)"
SLOW_TOOLS = {"strace -f", "perf trace"}


def traced_fixed():
    return f"tawon, tracing it (ALL, {RING_MB} MiB ring)"


def loop_binary(workload):
    return helper("getppid_loop" if workload == "getppid" else "mixed_loop")


def bare(workload, calls):
    return float(Paused([loop_binary(workload), str(calls), "wait"]).go()), None


def floor(name):
    def measure(workload, calls):
        out = work("out")
        open(out, "w").close()
        loader = spawn([helper("bpf_attach"), bpf_object(name)], stdout=open(out, "w"))
        wait_for_text(out, "attached", loader)
        ns = float(Paused([loop_binary(workload), str(calls), "wait"]).go())
        stop(loader)
        return ns, None
    return measure


def tawon_untraced(binary, options=""):
    def measure(workload, calls):
        sleeper = spawn(["sleep", "600"])
        tracer = start_tawon(f"process.pid:{sleeper.pid}", os.devnull, work("err"), binary, options=options)
        ns = float(Paused([loop_binary(workload), str(calls), "wait"]).go())
        stop(tracer)
        sleeper.kill()
        sleeper.wait()
        return ns, None
    return measure


def tawon_traced(binary, ring_mb):
    def measure(workload, calls):
        loop = Paused([loop_binary(workload), str(calls), "wait"])
        tracer = start_tawon(f"process.pid:{loop.pid}", work("out"), work("err"), binary, ring_mb=ring_mb)
        ns = float(loop.go())
        settle(work("out"))
        stop(tracer)
        return ns, count_tawon(work("out"), workload)
    return measure


def strace(workload, calls):
    out = work("out")
    ns = float(Paused(["strace", "-f", "-qq", "-o", out, loop_binary(workload), str(calls), "wait"]).go())
    pattern = re.compile(r"^\d*\s*(\w+)\(")
    return ns, sum(1 for line in open(out) if (m := pattern.match(line)) and m.group(1) in LOOP_SYSCALLS[workload])


def perf_trace(workload, calls):
    out = work("out")
    ns = float(Paused(["perf", "trace", "-o", out, loop_binary(workload), str(calls), "wait"]).go())
    names = LOOP_SYSCALLS[workload]
    return ns, sum(1 for line in open(out) if any(f" {n}(" in line or f": {n}(" in line for n in names))


def bpftrace(workload, calls):
    out = work("out")
    open(out, "w").close()
    loop = Paused([loop_binary(workload), str(calls), "wait"])
    # BEGIN runs once every probe is attached ("Attaching" is printed before).
    program = (f"BEGIN {{ printf(\"ready\\n\"); }} "
               f"tracepoint:raw_syscalls:sys_enter /pid == {loop.pid}/ {{ printf(\"%d\\n\", args->id); }}")
    tracer = spawn(["bpftrace", "-e", program], stdout=open(out, "w"), stderr=open(work("err"), "w"))
    wait_for_text(out, "ready", tracer)
    ns = float(loop.go())
    time.sleep(1)
    stop(tracer)
    numbers = LOOP_NUMBERS[workload]
    return ns, sum(1 for line in open(out) if line.strip().isdigit() and int(line) in numbers)


def overhead_rows(peers):
    rows = [(BARE, bare), (FLOOR_EXIT, floor("empty_sys_exit")), (FLOOR_ENTER, floor("empty_sys_enter")),
            (UNTRACED, tawon_untraced(TAWONCTL)), (UNTRACED_ENTRY, tawon_untraced(TAWONCTL, ";entryOnly:true")),
            (TRACED_DEFAULT, tawon_traced(TAWONCTL, None)), (traced_fixed(), tawon_traced(TAWONCTL, RING_MB))]
    if BASELINE:  # no entryOnly: a build from before it may refuse the option
        rows += [("baseline: " + UNTRACED, tawon_untraced(BASELINE)),
                 ("baseline: " + TRACED_DEFAULT, tawon_traced(BASELINE, None)),
                 ("baseline: " + traced_fixed(), tawon_traced(BASELINE, RING_MB))]
    if peers:
        rows += [("strace -f", strace), ("perf trace", perf_trace), ("bpftrace, printf per event", bpftrace)]
    return rows


def overhead(peers):
    """(workload, row, calls, median ns, ratio to bare, events lost or None) per workload and row."""
    rows, results = overhead_rows(peers), []
    for workload in WORKLOADS:
        samples = {name: [] for name, _ in rows}
        for _ in range(RUNS):  # interleaved rounds: noise hits every row alike
            for name, measure in rows:
                calls = SLOW_CALLS if name in SLOW_TOOLS else CALLS
                try:
                    sample = measure(workload, calls)
                except RuntimeError as error:  # a tool that would not stop: measured again, once
                    print(f"{workload} {name}: {error}; measuring it again", flush=True)
                    sample = measure(workload, calls)
                samples[name].append(sample)
        bare_ns = statistics.median(ns for ns, _ in samples[BARE])
        for name, _ in rows:
            calls = SLOW_CALLS if name in SLOW_TOOLS else CALLS
            ns = statistics.median(n for n, _ in samples[name])
            delivered = [d for _, d in samples[name] if d is not None]
            # The loops make a few syscalls of their own around the loop: never count those as gains.
            lost = None if not delivered else max(0, calls - statistics.median(delivered))
            results.append((workload, name, calls, ns, ns / bare_ns, lost))
            print(f"{workload:8} {name:72} {ns:9.1f} ns  {ns / bare_ns:5.2f}x  lost {'-' if lost is None else f'{lost:,.0f}'}",
                  flush=True)
    return results


# What the programs themselves cost, in the kernel's own accounting (kernel.bpf_stats_enabled):
# the time spent in a tracer's BPF programs per syscall of the loop. Where a loop's wall clock
# swings by more than the difference sought (the mixed loop's file calls, on a VM), this is the
# measurement that can tell the floor and tawon apart.

def program_run_time_ns(pid):
    """The run_time_ns summed over the BPF programs process `pid` holds open."""
    total, seen = 0, set()
    for fd in os.listdir(f"/proc/{pid}/fdinfo"):
        try:
            fields = dict(line.split(":", 1) for line in open(f"/proc/{pid}/fdinfo/{fd}") if ":" in line)
        except OSError:  # a descriptor closed meanwhile
            continue
        if "prog_id" in fields and "run_time_ns" in fields and fields["prog_id"] not in seen:
            seen.add(fields["prog_id"])
            total += int(fields["run_time_ns"])
    return total


def in_kernel(start):
    """A row of the kernel's accounting: `start` starts the tracer and returns its process (whose
    programs are counted) and how to stop it; the loop's syscalls divide the time they took."""
    def measure(workload, calls):
        process, end = start()
        before = program_run_time_ns(process.pid)
        Paused([loop_binary(workload), str(calls), "wait"]).go()
        spent = program_run_time_ns(process.pid) - before
        end()
        return spent / calls
    return measure


def floor_in_kernel():
    out = work("out")
    open(out, "w").close()
    loader = spawn([helper("bpf_attach"), bpf_object("empty_sys_exit")], stdout=open(out, "w"))
    wait_for_text(out, "attached", loader)
    return loader, lambda: stop(loader)


def tawon_in_kernel(binary):
    def start():
        sleeper = spawn(["sleep", "600"])
        tracer = start_tawon(f"process.pid:{sleeper.pid}", os.devnull, work("err"), binary)
        def end():
            stop(tracer)
            sleeper.kill()
            sleeper.wait()
        return tracer, end
    return start


def kernel_costs():
    """{workload: {row: median ns in BPF programs per loop syscall}}, rows interleaved as above."""
    rows = [(FLOOR_EXIT, in_kernel(floor_in_kernel)), (UNTRACED, in_kernel(tawon_in_kernel(TAWONCTL)))]
    if BASELINE:
        rows.append(("baseline: " + UNTRACED, in_kernel(tawon_in_kernel(BASELINE))))
    setting = "/proc/sys/kernel/bpf_stats_enabled"
    was = open(setting).read().strip()
    open(setting, "w").write("1")
    costs = {}
    try:
        for workload in WORKLOADS:
            samples = {name: [] for name, _ in rows}
            for _ in range(RUNS):
                for name, measure in rows:
                    samples[name].append(measure(workload, CALLS))
            costs[workload] = {name: statistics.median(values) for name, values in samples.items()}
            print(f"{workload:8} in BPF programs per syscall: " +
                  ", ".join(f"{name} {ns:.1f} ns" for name, ns in costs[workload].items()), flush=True)
    finally:
        open(setting, "w").write(was)
    return costs


def overhead_targets(results, costs):
    """The targets per workload, as sentences, from the same medians."""
    lines = []
    for workload in WORKLOADS:
        row = {name: (ns, ratio, lost) for w, name, _, ns, ratio, lost in results if w == workload}
        exit_floor, enter_floor, untraced = row[FLOOR_EXIT][0], row[FLOOR_ENTER][0], row[UNTRACED][0]
        untraced_entry = row[UNTRACED_ENTRY][0]
        _, ratio, lost = row[TRACED_DEFAULT]
        met = lambda ok: "met" if ok else "NOT met"
        cost = costs[workload]
        added = cost[UNTRACED] - cost[FLOOR_EXIT]
        baseline = (f"; baseline {cost['baseline: ' + UNTRACED] - cost[FLOOR_EXIT]:+.1f} ns"
                    if "baseline: " + UNTRACED in cost else "")
        lines += [
            f"{workload}: untraced process while tawon traces another: {untraced:.1f} ns/syscall, "
            f"{untraced - exit_floor:+.1f} ns over the sys_exit floor ({exit_floor:.1f}; bare {row[BARE][0]:.1f}); "
            f"target at most +{UNTRACED_TARGET_NS} ns: {met(untraced - exit_floor <= UNTRACED_TARGET_NS)}",
            f"{workload}: the same in the kernel's accounting of BPF run time: tawon's programs {cost[UNTRACED]:.1f} ns "
            f"per syscall, the empty program {cost[FLOOR_EXIT]:.1f}: {added:+.1f} ns{baseline}; "
            f"target at most +{UNTRACED_TARGET_NS} ns: {met(added <= UNTRACED_TARGET_NS)}",
            f"{workload}: the same with entryOnly:true (tawon at sys_enter): {untraced_entry:.1f} ns/syscall, "
            f"{untraced_entry - enter_floor:+.1f} ns over the sys_enter floor ({enter_floor:.1f})",
            f"{workload}: traced with functions:ALL, default configuration: {ratio:.2f}x bare, "
            f"{lost:,.0f} lost; target at most {TRACED_TARGET_RATIO}x with 0 lost: "
            f"{met(ratio <= TRACED_TARGET_RATIO and lost == 0)}"]
    return lines


# Sustained throughput: tawonctl in its default configuration, output to /dev/null; tawonctl's own
# summary gives the records emitted and those lost.

def throughput():
    """Each rate's rows: this build, then the baseline (BASELINE) right after it."""
    rows = []
    builds = [("", TAWONCTL)] + ([("baseline: ", BASELINE)] if BASELINE else [])
    for rate in RATES:
        for prefix, binary in builds:
            loop = Paused([helper("paced_loop"), str(rate), str(SECONDS)])
            tracer = start_tawon(f"process.pid:{loop.pid}", os.devnull, work("err"), binary=binary)
            made = int(loop.go())
            wait_idle(tracer.pid)
            stop(tracer)
            summary = read_summary(work("err"))
            rows.append((prefix, rate, made / SECONDS, made, summary))
            print(f"{prefix}rate {rate}: made {made}, emitted {summary['written']}, lost in the kernel "
                  f"{summary['ring_full']}, in tawonctl {summary['lost'] - summary['ring_full']}", flush=True)
    return rows


def lossless(made, summary):
    # Records emitted exceed the getppid calls by the loop's pacing syscalls; fewer is a loss
    # even where no counter says so.
    return summary["lost"] == 0 and summary["written"] >= made


def throughput_conclusions(rows):
    lines = []
    for prefix in dict.fromkeys(row[0] for row in rows):
        own = [row[1:] for row in rows if row[0] == prefix]
        sustained = [achieved for _, achieved, made, summary in own if lossless(made, summary)]
        lines.append(f"{prefix}Highest rate sustained with nothing lost: {max(sustained):,.0f}/s." if sustained
                     else f"{prefix}No rate measured was sustained without loss.")
        target = [(made, summary) for rate, _, made, summary in own if rate == SUSTAINED_TARGET_RATE]
        if not target:
            lines.append(f"{prefix}{SUSTAINED_TARGET_RATE:,}/s was not measured in this run (RATES).")
            continue
        made, summary = target[0]
        duration = f"{SECONDS:g} s" + ("" if SECONDS == SUSTAINED_TARGET_SECONDS else
                                        f" (the target is for {SUSTAINED_TARGET_SECONDS} s)")
        verdict = "lost 0" if lossless(made, summary) else (
            f"lost {summary['lost']:,} ({summary['written']:,} records emitted for {made:,} calls)")
        lines.append(f"{prefix}{SUSTAINED_TARGET_RATE:,} getppid/s for {duration}: {verdict}.")
    return lines


# tawonctl as a consumer: records/s and CPU per record draining a burst.

def consumer():
    ring = os.environ.get("RING_MB", "256")
    ring_mb = None if ring in ("", "default") else int(ring)
    output = os.environ.get("OUT", os.devnull)
    profile = bool(os.environ.get("PROFILE"))
    perf_data = work("perf.data")
    if profile:
        ensure_tools({"perf": "linux-perf"})
    loop = Paused([helper("getppid_loop"), str(CALLS), "wait"])
    launched = start_tawon(f"process.pid:{loop.pid}", output, work("err"), ring_mb=ring_mb,
                           options=os.environ.get("OPTIONS", ""),
                           wrapper=["perf", "record", "-g", "-o", perf_data] if profile else ())
    tracer = launched.pid
    if profile:  # perf runs tawonctl
        tracer = children(launched.pid)[0]
        STARTED.append((launched, tracer))
    ticks_before = cpu_ticks(tracer)
    start = time.time()
    ns = float(loop.go())
    end = wait_idle(tracer)
    ticks = cpu_ticks(tracer) - ticks_before
    os.kill(tracer, signal.SIGINT)
    launched.wait(timeout=120)
    summary = read_summary(work("err"))
    written, ms = summary["written"], max((end - start) * 1000, 1)
    cpu_ns = ticks * 1e9 / os.sysconf("SC_CLK_TCK") / max(written, 1)
    print(f"{written} of {CALLS} records as JSON in {ms:.0f} ms: {written * 1000 / ms:.0f} records/s; "
          f"CPU {cpu_ns:.0f} ns per record")
    if profile:
        if os.environ.get("KEEP"):
            shutil.copy(perf_data, os.environ["KEEP"])
        report = subprocess.run(["perf", "report", "-i", perf_data, "--stdio"]
                                + shlex.split(os.environ.get("PERF_ARGS", "--no-children --percent-limit 0.8")),
                                capture_output=True, text=True).stdout
        symbols = [line[:160] for line in report.splitlines() if re.match(r"^ +[0-9.]+%", line)]
        print("\n".join(symbols[:int(os.environ["TOP"])] if os.environ.get("TOP") else symbols))
    print(f"loop while traced: {ns} ns/syscall; tawonctl: {summary['line'].split('tawonctl: ', 1)[-1]}")


# The daemon: start-up and memory.

def rss_kib(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def drop_cached_pages(paths):
    for path in paths:
        descriptor = os.open(path, os.O_RDONLY)
        try:
            os.posix_fadvise(descriptor, 0, 0, os.POSIX_FADV_DONTNEED)
        finally:
            os.close(descriptor)


def start_daemon(socket_path, config):
    """Starts tawond; returns it and the milliseconds until its API answered."""
    if os.path.exists(socket_path):
        os.unlink(socket_path)
    start = time.time()
    process = spawn([os.path.join(RELEASE, "tawond"), "--config", config, "--socket", socket_path],
                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    while subprocess.run(["curl", "-sf", "--unix-socket", socket_path, "http://tawond/v1/status"],
                         capture_output=True).returncode != 0:
        if process.poll() is not None:
            raise RuntimeError(f"tawond exited with {process.returncode} before it was ready")
        time.sleep(0.005)
    return process, (time.time() - start) * 1000


def daemon():
    """Start-to-ready: the median of DAEMON_STARTS starts (the first start after a build reads
    cold files); RSS idle and under load from the last one."""
    socket_path, config = work("tawond.sock"), work("tawond.yaml")
    open(config, "w").write("logLevel: warning\n")
    starts = []
    for _ in range(DAEMON_STARTS - 1):
        process, ready_ms = start_daemon(socket_path, config)
        starts.append(ready_ms)
        stop(process, signal.SIGTERM)
    # The idle RSS counts the binary's pages the daemon has mapped, and how many a first touch maps
    # depends on how the file sits in the page cache (just written by the linker, or read from
    # disk): measured after a start from disk, as at boot, so that builds compare alike.
    drop_cached_pages([os.path.join(RELEASE, "tawond")] + glob.glob(os.path.join(RELEASE, "libtawon-task-*.so")))
    process, ready_ms = start_daemon(socket_path, config)
    starts.append(ready_ms)
    print(f"daemon start to ready: {', '.join(f'{ms:.0f}' for ms in starts)} ms", flush=True)
    time.sleep(1)
    idle = rss_kib(process.pid)
    loop = spawn([helper("paced_loop"), "200000", "5"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    body = json.dumps({"conditions": f"process.pid:{loop.pid}", "tasks": ["syscalls|functions:ALL"]})
    run(["curl", "-sf", "--unix-socket", socket_path, "-X", "POST", "-d", body, "http://tawond/v1/directives"])
    loop.stdin.write("go\n")
    loop.stdin.flush()
    peak = idle
    while loop.poll() is None:
        peak = max(peak, rss_kib(process.pid))
        time.sleep(0.1)
    stop(process, signal.SIGTERM)
    return statistics.median(starts), starts, idle / 1024, peak / 1024


# Fidelity: tawon's decoding against strace's, call by call.

def parse_strace(path):
    calls, seen_go = [], False
    pattern = re.compile(r"^\d*\s*(\w+)\((.*)\)\s+=")
    for line in open(path):
        if not seen_go:
            seen_go = 'read(0, "go\\n"' in line
            continue
        m = pattern.match(line)
        if m:
            calls.append((m.group(1), m.group(2)))
        elif re.match(r"^\d*\s*exit_group\(", line):
            calls.append(("exit_group", line.split("(", 1)[1].split(")")[0]))
    return calls


def split_arguments(text):
    parts, depth, current, quoted, escape = [], 0, "", False, False
    for char in text:
        if quoted:
            current += char
            if escape: escape = False
            elif char == "\\": escape = True
            elif char == '"': quoted = False
            continue
        if char == '"': quoted = True
        elif char in "[{(": depth += 1
        elif char in "]})": depth -= 1
        if char == "," and depth == 0:
            parts.append(current.strip()); current = ""
        else:
            current += char
    if current.strip(): parts.append(current.strip())
    return parts


def normalize(value):
    """strace's rendering and tawon's, made comparable: tawon escapes bytes as strace does, and
    gives a string's text without strace's quotes around it."""
    text = str(value).strip()
    if text.startswith('"') and text.endswith('"'):
        text = text[1:-1]
    return text


def fidelity():
    directory = tempfile.mkdtemp(prefix="fidelity-", dir=WORK)
    binary = helper("tawon-workload")
    strace_out = work("strace.txt")
    subprocess.run(["strace", "-f", "-qq", "-o", strace_out, binary, "many", directory], input="go\n", text=True,
                   check=True, stdout=subprocess.DEVNULL)
    reference = parse_strace(strace_out)
    out = work("out")
    loop = Paused([binary, "many", directory])
    tracer = start_tawon(f"process.pid:{loop.pid}", out, work("err"))
    loop.go()
    settle(out)
    stop(tracer)
    ours = [json.loads(line)["data"][0]["data"] for line in open(out)]
    # The same window as strace's: after the read of the go line (tawon reports that call, in
    # progress when its directive started, when it returns).
    go = next((i for i, call in enumerate(ours) if call["function"] == "read"
               and [a.get("value") for a in call.get("args", [])[:2]] == [0, "go\\n"]), None)
    if go is not None:
        ours = ours[go + 1:]
    names_ref, names_ours = [c[0] for c in reference], [c["function"] for c in ours]
    matcher = difflib.SequenceMatcher(a=names_ref, b=names_ours, autojunk=False)
    matched_calls, args_total, args_equal, kinds = 0, 0, 0, {}
    address = re.compile(r"^0x[0-9a-f]+$")
    for block in matcher.get_matching_blocks():
        for offset in range(block.size):
            name, text = reference[block.a + offset]
            call = ours[block.b + offset]
            matched_calls += 1
            for theirs, mine in zip(split_arguments(text), call.get("args", [])):
                args_total += 1
                a, b = normalize(theirs), normalize(mine["value"])
                if a == b:
                    args_equal += 1
                    continue
                if address.match(a) and address.match(b) or (a.isdigit() and str(b).isdigit() and name in ("kill", "tgkill")):
                    kind = "differs between the two runs (address or pid)"
                elif address.match(str(b)):
                    kind = "output argument: strace shows what the call wrote, tawon only its address"
                else:
                    kind = "decoded differently"
                kinds.setdefault(f"{name}.{mine['name']}", (theirs, mine["value"], kind))
    sequence = matched_calls / max(len(names_ref), len(names_ours), 1)
    return len(names_ref), len(names_ours), sequence, args_total, args_equal, kinds


# The report of `all`.

def throughput_table(rows):
    lines = ["| tawonctl | target getppid/s | achieved getppid/s | getppid calls | records emitted (every syscall of the "
             "loop) | lost in the kernel (ring buffer full) | lost in tawonctl |",
             "| --- | --- | --- | --- | --- | --- | --- |"]
    for prefix, rate, achieved, made, summary in rows:
        lines.append(f"| {prefix.rstrip(': ') or 'this build'} | {rate:,} | {achieved:,.0f} | {made:,} "
                     f"| {summary['written']:,} | {summary['ring_full']:,} | {summary['lost'] - summary['ring_full']:,} |")
    return lines


def write_report(overhead_results, kernel_cost_results, throughput_rows, daemon_numbers, fidelity_result):
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
    lines = ["# Performance", "",
             f"Measured by `bench/compare.sh` on {time.strftime('%Y-%m-%d')}: {os.cpu_count()} CPUs ({cpu}), "
             f"{os.uname().release}, release build. Medians of {RUNS} interleaved rounds; ratios to the bare run "
             "of the same rounds. Rerun: `sudo bench/compare.sh` (RUNS, CALLS, SLOW_CALLS, RATES, SECONDS "
             "adjust it; it rewrites this file; `bench/compare.py --help` lists the rest).", ""]
    if BASELINE:
        lines += [f"Rows prefixed \"baseline: \" are another build's tawonctl (`{BASELINE}`), measured in the "
                  "same rounds.", ""]
    lines += ["## Overhead on the traced process and events lost", "",
              "| workload | tool | syscalls per run | ns/syscall | ratio | events lost |", "| --- | --- | --- | --- | --- | --- |"]
    for workload, tool, calls, ns, ratio, lost in overhead_results:
        lines.append(f"| {workload} | {tool} | {calls:,} | {ns:.1f} | {ratio:.2f}x | {'-' if lost is None else f'{lost:,.0f}'} |")
    lines += ["", "The empty program rows are the cost of the kernel's syscall tracing path alone, which every "
              "process pays, watched or not, while any tracer hooks that tracepoint: tawon hooks sys_exit (it "
              "reports calls whole, at return) and sys_enter only while a directive asks for calls at entry "
              "(entryOnly:true); bpftrace's probe here is at sys_enter; perf trace hooks both. What tawon adds "
              "to an untraced process beyond its floor is its own programs' work; the kernel's accounting of BPF "
              "run time (kernel.bpf_stats_enabled, in the targets below) measures that work alone, per syscall of "
              "the loop, where a loop's wall clock swings by more than the difference. The default configuration "
              "is tawonctl run without --ring-buffer-mb.",
              "", "strace and perf trace run fewer syscalls (SLOW_CALLS): ns/syscall is still comparable. Events "
              "lost: the loop's syscalls minus those the tool delivered (the loops' few own syscalls around the "
              "loop are not counted as gains).", "", "Targets:", ""]
    lines += [f"- {line}" for line in overhead_targets(overhead_results, kernel_cost_results)]
    lines += ["", f"## Sustained throughput to JSON (`> /dev/null`), functions:ALL, default configuration, "
              f"{SECONDS:g} s a rate", ""] + throughput_table(throughput_rows) + [""]
    lines += throughput_conclusions(throughput_rows)
    lines += ["Records emitted exceed the getppid calls by the loop's own pacing syscalls "
              "(clock_nanosleep between bursts), which are traced too; a rate counts as sustained only with "
              "nothing lost and at least one record per call."]
    ready_ms, starts, idle_mib, peak_mib = daemon_numbers
    lines += ["", "## Daemon", "", f"| start to ready (median of {len(starts)}) | each start | RSS idle "
              "| RSS peak, tracing 200,000 syscalls/s |", "| --- | --- | --- | --- |",
              f"| {ready_ms:.0f} ms | {', '.join(f'{ms:.0f}' for ms in starts)} ms | {idle_mib:.1f} MiB | {peak_mib:.1f} MiB |",
              "", f"Target: RSS idle at most {IDLE_RSS_TARGET_MIB} MiB. It is read from the last start, made after "
              "tawond's binary and plugins were dropped from the page cache (a start from disk, as at boot): how "
              "much of a file a first touch maps depends on how its pages sit in the cache. The peak counts the "
              "ring buffer's pages as the reader reaches them (mapped twice: its data area wraps)."]
    ref_count, our_count, sequence, args_total, args_equal, kinds = fidelity_result
    lines += ["", "## Fidelity against strace -f", "",
              f"Workload: `Tests/HostTests/Fixtures/workload.c many` (after its go line). strace saw {ref_count} syscalls, "
              f"tawon {our_count}; sequence match {sequence:.1%}; arguments equal as rendered {args_equal}/{args_total} "
              f"({args_equal / max(args_total, 1):.1%}).", "", "Every kind of argument mismatch (strace / tawon):", ""]
    for key, (theirs, mine, kind) in sorted(kinds.items(), key=lambda item: (item[1][2], item[0])):
        lines.append(f"- {kind}: `{key}`: `{theirs}` / `{mine}`")
    os.makedirs(os.path.dirname(os.path.abspath(REPORT)), exist_ok=True)
    open(REPORT, "w").write("\n".join(lines) + "\n")
    print("\n".join(lines))
    print(f"\n(written to {REPORT})")


def main():
    global RUNS, RING_MB, WORKLOADS
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", nargs="?", default="all", choices=["all", "overhead", "throughput", "consumer", "daemon"])
    command = parser.parse_args().command
    if os.geteuid() != 0:
        sys.exit("compare.py traces with BPF and ptrace: run it as root")
    RUNS = int(os.environ.get("RUNS", 7 if command == "overhead" else 5))
    if command != "consumer":  # consumer reads RING_MB itself (another default, and "default")
        RING_MB = int(os.environ.get("RING_MB", 16))
    WORKLOADS = os.environ.get("WORKLOADS", "getppid" if command == "overhead" else "getppid,mixed").split(",")
    build()
    print(f"{command}: {os.cpu_count()} CPUs, {os.uname().release}; tawonctl {TAWONCTL}"
          + (f"; baseline {BASELINE}" if BASELINE and command in ("all", "overhead", "throughput") else ""), flush=True)
    if command == "consumer":
        consumer()
    elif command == "throughput":
        throughput_rows = throughput()
        print("\n".join(throughput_table(throughput_rows) + throughput_conclusions(throughput_rows)))
    elif command == "daemon":
        ready_ms, starts, idle_mib, peak_mib = daemon()
        print(f"start to ready: median {ready_ms:.0f} ms; RSS idle {idle_mib:.1f} MiB (target {IDLE_RSS_TARGET_MIB}), "
              f"peak tracing 200,000 syscalls/s {peak_mib:.1f} MiB")
    elif command == "overhead":
        print(f"{', '.join(WORKLOADS)} loop, {CALLS} calls per run, medians of {RUNS} interleaved rounds", flush=True)
        results = overhead(peers=False)
        print("\n".join(overhead_targets(results, kernel_costs())))
    else:
        ensure_tools({"strace": "strace", "perf": "linux-perf", "bpftrace": "bpftrace"})
        write_report(overhead(peers=True), kernel_costs(), throughput(), daemon(), fidelity())


if __name__ == "__main__":
    main()
