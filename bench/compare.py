#!/usr/bin/env python3
"""tawon beside strace, perf trace and bpftrace, on the same machine and workloads, in one run.

Measures (as root): overhead on the traced process (getppid loop, mixed open/read/write/close
loop), events lost per tool, tawon's sustained lossless rate, the daemon's start-up and memory,
and the fidelity of tawon's decoding against strace's. Writes docs/performance.md.

Environment: RUNS (default 5), CALLS (default 1000000), SLOW_CALLS (for strace and perf trace,
default 100000), RATES (throughput steps, default 250000,500000,750000,1000000), SECONDS (per
step, 10), DAEMON_STARTS (default 5).
"""
import difflib, json, os, re, shutil, signal, statistics, subprocess, sys, tempfile, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RUNS = int(os.environ.get("RUNS", 5))
CALLS = int(os.environ.get("CALLS", 1_000_000))
SLOW_CALLS = int(os.environ.get("SLOW_CALLS", 100_000))
RATES = [int(r) for r in os.environ.get("RATES", "250000,500000,750000,1000000").split(",")]
SECONDS = float(os.environ.get("SECONDS", 10))
DAEMON_STARTS = int(os.environ.get("DAEMON_STARTS", 5))
RELEASE = os.path.join(ROOT, ".build", "release")
TAWONCTL = os.environ.get("TAWONCTL", os.path.join(RELEASE, "tawonctl"))
# Another build's tawonctl (its own plugins beside it): its tawon rows are measured in the same
# interleaved rounds, prefixed "baseline: ", for a before/after from one run.
BASELINE = os.environ.get("BASELINE")
WORK = tempfile.mkdtemp(prefix="tawon-compare-")
LOOP_SYSCALLS = {"getppid": {"getppid"}, "mixed": {"openat", "read", "write", "close"}}
LOOP_NUMBERS = {"getppid": {110}, "mixed": {257, 0, 1, 3}}


def run(command, **options):
    return subprocess.run(command, check=True, text=True, capture_output=True, **options)


def prepare():
    missing = [p for p, tool in [("strace", "strace"), ("linux-perf", "perf"), ("bpftrace", "bpftrace")] if not shutil.which(tool)]
    if missing:
        run(["apt-get", "update", "-qq"])
        run(["apt-get", "install", "-y", "-qq"] + missing, env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"))
    subprocess.run(["bash", os.path.join(ROOT, "scripts/install-deps.sh")], check=True)
    subprocess.run(["swift", "build", "-c", "release"], cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    for name in ["getppid_loop", "mixed_loop", "paced_loop"]:
        run(["cc", "-O2", "-o", os.path.join(WORK, name), os.path.join(ROOT, "bench", name + ".c")])
    run(["cc", "-O1", "-o", os.path.join(WORK, "tawon-workload"), os.path.join(ROOT, "Tests/HostTests/Fixtures/workload.c")])
    # The floor of any sys_enter tracer: an empty program there, built by the toolchain's clang.
    clang = os.path.join(os.path.dirname(os.path.realpath(shutil.which("swift"))), "clang")
    run([clang, "-O2", "-g", "-target", "bpf", "-c", os.path.join(ROOT, "bench/empty_sys_enter.bpf.c"),
         "-o", os.path.join(WORK, "empty_sys_enter.bpf.o")])
    run(["cc", "-O2", "-o", os.path.join(WORK, "bpf_attach"), os.path.join(ROOT, "bench/bpf_attach.c"), "-lbpf"])


def loop_binary(workload):
    return os.path.join(WORK, "getppid_loop" if workload == "getppid" else "mixed_loop")


class Paused:
    """A loop that waits for a line on stdin, so a tracer can attach to its pid first."""

    def __init__(self, command):
        self.process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.pid = self.process.pid

    def go(self):
        out, _ = self.process.communicate("go\n")
        return out


def wait_for_text(path, text, timeout=20):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if os.path.exists(path) and text in open(path, errors="replace").read():
            return
        time.sleep(0.01)
    raise RuntimeError(f"{path}: no '{text}' after {timeout} s: {open(path, errors='replace').read()[-500:]}")


def start_tawon(condition, output, errors, ring_mb=16, binary=TAWONCTL):
    tracer = subprocess.Popen(
        [binary, "run", "--ring-buffer-mb", str(ring_mb), "-c", condition, "-t", "syscalls|functions:ALL"],
        stdout=open(output, "w"), stderr=open(errors, "w"))
    wait_for_text(errors, "tracing directive")
    return tracer


def stop(process, sig=signal.SIGINT):
    process.send_signal(sig)
    process.wait(timeout=120)


def settle(path, timeout=60):
    """Waits until a file stops growing (a tracer still writing what it buffered)."""
    last, deadline = -1, time.time() + timeout
    while time.time() < deadline:
        size = os.path.getsize(path)
        if size == last:
            return
        last = size
        time.sleep(0.3)


def count_tawon(path, workload):
    names = LOOP_SYSCALLS[workload]
    return sum(1 for line in open(path) if json.loads(line)["data"][0]["data"]["function"] in names)


def measure(tool, workload, calls):
    """ns/syscall of the loop under `tool`, and events delivered (None where nothing is delivered)."""
    binary, out, err = loop_binary(workload), os.path.join(WORK, "out"), os.path.join(WORK, "err")
    tawonctl = TAWONCTL
    if tool.startswith("baseline: "):
        tool, tawonctl = tool[len("baseline: "):], BASELINE
    for path in (out, err):
        open(path, "w").close()
    if tool == "bare":
        return float(Paused([binary, str(calls), "wait"]).go()), None
    if tool == FLOOR:
        attached = subprocess.Popen([os.path.join(WORK, "bpf_attach"), os.path.join(WORK, "empty_sys_enter.bpf.o")],
                                    stdout=open(out, "w"), stderr=open(err, "w"))
        wait_for_text(out, "attached")
        ns = float(Paused([binary, str(calls), "wait"]).go())
        stop(attached)
        return ns, None
    if tool == "tawon, tracing another process":
        sleeper = subprocess.Popen(["sleep", "600"])
        tracer = start_tawon(f"process.pid:{sleeper.pid}", out, err, binary=tawonctl)
        ns = float(Paused([binary, str(calls), "wait"]).go())
        stop(tracer)
        sleeper.kill()
        return ns, None
    if tool.startswith("tawon, tracing it"):
        loop = Paused([binary, str(calls), "wait"])
        tracer = start_tawon(f"process.pid:{loop.pid}", out, err, ring_mb=256 if "256" in tool else 16, binary=tawonctl)
        ns = float(loop.go())
        settle(out)
        stop(tracer)
        return ns, count_tawon(out, workload)
    if tool == "strace -f":
        loop = Paused(["strace", "-f", "-qq", "-o", out, binary, str(calls), "wait"])
        ns = float(loop.go())
        pattern = re.compile(r"^\d*\s*(\w+)\(")
        return ns, sum(1 for line in open(out) if (m := pattern.match(line)) and m.group(1) in LOOP_SYSCALLS[workload])
    if tool == "perf trace":
        loop = Paused(["perf", "trace", "-o", out, binary, str(calls), "wait"])
        ns = float(loop.go())
        names = LOOP_SYSCALLS[workload]
        return ns, sum(1 for line in open(out) if any(f" {n}(" in line or f": {n}(" in line for n in names))
    if tool == "bpftrace, printf per event":
        loop = Paused([binary, str(calls), "wait"])
        program = f"tracepoint:raw_syscalls:sys_enter /pid == {loop.pid}/ {{ printf(\"%d\\n\", args->id); }}"
        tracer = subprocess.Popen(["bpftrace", "-e", program], stdout=open(out, "w"), stderr=open(err, "w"))
        wait_for_text(out, "Attaching")
        ns = float(loop.go())
        time.sleep(1)
        stop(tracer)
        numbers = LOOP_NUMBERS[workload]
        return ns, sum(1 for line in open(out) if line.strip().isdigit() and int(line) in numbers)
    raise ValueError(tool)


FLOOR = "empty program at sys_enter (floor of any sys_enter tracer)"
TAWON_TOOLS = ["tawon, tracing another process", "tawon, tracing it (ALL, 16 MiB ring)",
               "tawon, tracing it (ALL, 256 MiB ring)"]
TOOLS = (["bare", FLOOR] + TAWON_TOOLS + (["baseline: " + tool for tool in TAWON_TOOLS] if BASELINE else [])
         + ["strace -f", "perf trace", "bpftrace, printf per event"])


def overhead():
    rows = []
    for workload in ["getppid", "mixed"]:
        results = {tool: [] for tool in TOOLS}
        for _ in range(RUNS):  # interleaved rounds: noise hits every tool alike
            for tool in TOOLS:
                calls = SLOW_CALLS if tool in ("strace -f", "perf trace") else CALLS
                ns, delivered = measure(tool, workload, calls)
                results[tool].append((ns, delivered, calls))
        bare = statistics.median(ns for ns, _, _ in results["bare"])
        for tool in TOOLS:
            ns = statistics.median(n for n, _, _ in results[tool])
            delivered = [d for _, d, _ in results[tool] if d is not None]
            calls = results[tool][0][2]
            # The loops make a few syscalls of their own around the loop: never count those as gains.
            lost = None if not delivered else max(0, calls - statistics.median(delivered))
            rows.append((workload, tool, calls, ns, ns / bare, lost))
            print(f"{workload:8} {tool:40} {ns:9.1f} ns  {ns / bare:5.2f}x  lost {lost}", flush=True)
    return rows


def cpu_ticks(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime


def wait_idle(pid, quiet=0.3, timeout=120):
    """Waits until a process has used no CPU for `quiet` seconds: a tracer writing to
    /dev/null has then drained its ring buffer."""
    last, changed, deadline = cpu_ticks(pid), time.time(), time.time() + timeout
    while time.time() < deadline and time.time() - changed < quiet:
        time.sleep(0.02)
        now = cpu_ticks(pid)
        if now != last:
            last, changed = now, time.time()


def throughput():
    """Each rate for SECONDS, output to /dev/null as the issue asks: tawonctl's own summary
    gives the records written and the kernel's count of records lost."""
    rows = []
    for rate in RATES:
        err = os.path.join(WORK, "err")
        loop = subprocess.Popen([os.path.join(WORK, "paced_loop"), str(rate), str(SECONDS)],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        tracer = start_tawon(f"process.pid:{loop.pid}", "/dev/null", err)
        made = int(loop.communicate("go\n")[0])
        wait_idle(tracer.pid)
        stop(tracer)
        summary = open(err).read()
        written = int(re.search(r"(\d+) records written", summary).group(1))
        kernel_lost = int(re.search(r"lost: (\d+) \(ring buffer full\)", summary).group(1))
        rows.append((rate, made / SECONDS, made, written, kernel_lost))
        print(f"rate {rate}: made {made}, written {written}, lost in the kernel {kernel_lost}", flush=True)
    return rows


def rss_kib(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def start_daemon(socket_path, config):
    """Starts tawond; returns it and the milliseconds until its API answered."""
    if os.path.exists(socket_path):
        os.unlink(socket_path)
    start = time.time()
    process = subprocess.Popen([os.path.join(RELEASE, "tawond"), "--config", config, "--socket", socket_path],
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
    socket_path = os.path.join(WORK, "tawond.sock")
    config = os.path.join(WORK, "tawond.yaml")
    open(config, "w").write("logLevel: warning\n")
    starts = []
    for _ in range(DAEMON_STARTS - 1):
        process, ready_ms = start_daemon(socket_path, config)
        starts.append(ready_ms)
        stop(process, signal.SIGTERM)
    process, ready_ms = start_daemon(socket_path, config)
    starts.append(ready_ms)
    print(f"daemon start to ready: {', '.join(f'{ms:.0f}' for ms in starts)} ms", flush=True)
    time.sleep(1)
    idle = rss_kib(process.pid)
    loop = subprocess.Popen([os.path.join(WORK, "paced_loop"), "200000", "5"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
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
    binary = os.path.join(WORK, "tawon-workload")
    strace_out = os.path.join(WORK, "strace.txt")
    subprocess.run(["strace", "-f", "-qq", "-o", strace_out, binary, "many", directory], input="go\n", text=True, check=True)
    reference = parse_strace(strace_out)
    out, err = os.path.join(WORK, "out"), os.path.join(WORK, "err")
    loop = Paused([binary, "many", directory])
    tracer = start_tawon(f"process.pid:{loop.pid}", out, err)
    loop.go()
    settle(out)
    stop(tracer)
    ours = [json.loads(line)["data"][0]["data"] for line in open(out)]
    names_ref, names_ours = [c[0] for c in reference], [c["function"] for c in ours]
    matcher = difflib.SequenceMatcher(a=names_ref, b=names_ours, autojunk=False)
    matched_calls, args_total, args_equal, kinds = 0, 0, 0, {}
    address = re.compile(r"^0x[0-9a-f]+$")
    for block in matcher.get_matching_blocks():
        for offset in range(block.size):
            name, text = reference[block.a + offset]
            call = ours[block.b + offset]
            matched_calls += 1
            for position, (theirs, mine) in enumerate(zip(split_arguments(text), call.get("args", []))):
                args_total += 1
                a, b = normalize(theirs), normalize(mine["value"])
                if a == b:
                    args_equal += 1
                    continue
                if address.match(a) and address.match(b) or (a.isdigit() and str(b).isdigit() and name in ("kill", "tgkill")):
                    kind = "differs between the two runs (address or pid)"
                elif address.match(str(b)):
                    kind = "output argument: strace shows the result at exit, tawon the address at entry"
                else:
                    kind = "decoded differently"
                kinds.setdefault(f"{name}.{mine['name']}", (theirs, mine["value"], kind))
    sequence = matched_calls / max(len(names_ref), len(names_ours), 1)
    return len(names_ref), len(names_ours), sequence, args_total, args_equal, kinds


def main():
    if os.geteuid() != 0:
        sys.exit("compare.py traces with BPF and ptrace: run it as root")
    prepare()
    overhead_rows = overhead()
    throughput_rows = throughput()
    daemon_numbers = daemon()
    fidelity_result = fidelity()
    write_report(overhead_rows, throughput_rows, daemon_numbers, fidelity_result)


def write_report(overhead_rows, throughput_rows, daemon_numbers, fidelity_result):
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
    lines = ["# Performance", "",
             f"Measured by `bench/compare.sh` on {time.strftime('%Y-%m-%d')}: {os.cpu_count()} CPUs ({cpu}), "
             f"{os.uname().release}, release build. Medians of {RUNS} interleaved rounds; ratios to the bare run "
             "of the same round set. Rerun: `sudo bench/compare.sh` (RUNS, CALLS, SLOW_CALLS, RATES, SECONDS "
             "adjust it; it rewrites this file).", "",
             "## Overhead on the traced process and events lost", "",
             "| workload | tool | syscalls per run | ns/syscall | ratio | events lost |", "| --- | --- | --- | --- | --- | --- |"]
    for workload, tool, calls, ns, ratio, lost in overhead_rows:
        lines.append(f"| {workload} | {tool} | {calls:,} | {ns:.1f} | {ratio:.2f}x | {'-' if lost is None else f'{lost:,.0f}'} |")
    lines += ["", "The empty program row is the cost of the kernel's syscall tracing path alone: every tracer "
              "that hooks sys_enter (tawon, perf trace, bpftrace) pays it for every process, watched or not; "
              "what tawon adds to an untraced process beyond it is its own program's work.",
              "", "strace and perf trace run fewer syscalls (SLOW_CALLS): ns/syscall is still comparable. Events "
              "lost: the loop's syscalls minus those the tool delivered (the loops' few own syscalls around the "
              "loop are not counted as gains).", "",
              f"## Sustained throughput to JSON (`> /dev/null`), functions:ALL, 16 MiB ring, {SECONDS:.0f} s a rate", "",
              "| target getppid/s | achieved getppid/s | getppid calls | records written (every syscall of the loop) "
              "| lost in the kernel |", "| --- | --- | --- | --- | --- |"]
    for rate, achieved, made, written, kernel_lost in throughput_rows:
        lines.append(f"| {rate:,} | {achieved:,.0f} | {made:,} | {written:,} | {kernel_lost:,} |")
    lossless = [achieved for _, achieved, _, _, lost in throughput_rows if lost == 0]
    lines += ["", f"Highest rate sustained with nothing lost: {max(lossless):,.0f}/s." if lossless
              else "No rate measured was sustained without loss.",
              "Records written exceed the getppid calls by the loop's own pacing syscalls "
              "(clock_nanosleep between bursts), which are traced too."]
    ready_ms, starts, idle_mib, peak_mib = daemon_numbers
    lines += ["", "## Daemon", "", f"| start to ready (median of {len(starts)}) | each start | RSS idle "
              "| RSS peak, tracing 200,000 syscalls/s |", "| --- | --- | --- | --- |",
              f"| {ready_ms:.0f} ms | {', '.join(f'{ms:.0f}' for ms in starts)} ms | {idle_mib:.1f} MiB | {peak_mib:.1f} MiB |"]
    ref_count, our_count, sequence, args_total, args_equal, kinds = fidelity_result
    lines += ["", "## Fidelity against strace -f", "",
              f"Workload: `Tests/HostTests/Fixtures/workload.c many` (after its go line). strace saw {ref_count} syscalls, "
              f"tawon {our_count}; sequence match {sequence:.1%}; arguments equal as rendered {args_equal}/{args_total} "
              f"({args_equal / max(args_total, 1):.1%}).", "", "Every kind of argument mismatch (strace / tawon):", ""]
    for key, (theirs, mine, kind) in sorted(kinds.items(), key=lambda item: (item[1][2], item[0])):
        lines.append(f"- {kind}: `{key}`: `{theirs}` / `{mine}`")
    os.makedirs(os.path.join(ROOT, "docs"), exist_ok=True)
    open(os.path.join(ROOT, "docs", "performance.md"), "w").write("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    try:
        main()
    finally:
        shutil.rmtree(WORK, ignore_errors=True)
