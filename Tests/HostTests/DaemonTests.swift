import Foundation
import Host
import SystemFiles
import Testing

/// tawond and tawonctl as a user runs them: a real daemon, its Unix socket, real processes.
@Suite("tawond and its control API (kernel)", .serialized)
struct DaemonTests {
    let tawonctl = TestSupport.productsDirectory.appending(path: "tawonctl").path

    @Test("tawonctl d sub streams a real process's events; Ctrl-C removes the directive")
    func subscribeStreamsAndCtrlCRemoves() async throws {
        try KernelSupport.require()
        let daemon = try await RunningDaemon()
        let workload = try TracedWorkload(["write"])
        let output = daemon.directory.appending(path: "sub.out").path
        let subscriber = try ChildProcess.spawn(
            [tawonctl, "d", "sub", "--socket", daemon.socket, "-c", "process.pid:\(workload.pid)",
             "-t", "syscalls|functions:write"], stdout: .path(output), stderr: .path(output + ".err"))
        // The stream, not just the directive: a record emitted before d sub attaches is not kept for it.
        // Under the other suites' load, attaching the programs and the client's start take seconds.
        do { try await waitUntil(seconds: 30) { try await daemon.client.status().streams.count == 1 } } catch {
            let directives = try? await daemon.client.directives()
            Issue.record("no stream: directives \(directives.map { "\($0.map(\.id))" } ?? "none"); d sub said: \(SystemFile.text(output + ".err") ?? ""); tawond's log ends: \(SystemFile.text(daemon.log)?.suffix(3000) ?? "")")
            throw error
        }
        workload.go()
        do { try await waitUntil { (SystemFile.text(output) ?? "").contains("\n") } } catch {
            let status = try? await daemon.client.status()
            Issue.record("no record streamed; status: \(status.map { "\($0.events), \($0.drops), streams \($0.streams)" } ?? "none"); tawond's log ends: \(SystemFile.text(daemon.log)?.suffix(3000) ?? "")")
            throw error
        }
        kill(subscriber, SIGINT)
        #expect(ChildProcess.wait(subscriber) == 0)

        let line = try #require(SystemFile.text(output)?.split(separator: "\n").first)
        let envelope = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        let data = try #require((envelope["data"] as? [[String: Any]])?.first?["data"] as? [String: Any])
        #expect(data["function"] as? String == "write")
        #expect((data["process"] as? [String: Any])?["pid"] as? Int == Int(workload.pid))
        #expect(try await daemon.client.directives().isEmpty)
        #expect(daemon.stop().status == 0)
    }

    @Test("--detach, d list and d unsub work; curl --unix-socket lists directives")
    func detachListUnsubscribe() async throws {
        try KernelSupport.require()
        let daemon = try await RunningDaemon()
        let detached = try TestSupport.run(
            tawonctl, ["d", "sub", "--detach", "--socket", daemon.socket, "-c", "process.name:nothing-here",
                       "-t", "syscalls|functions:read+write"])
        #expect(detached.status == 0)
        let id = detached.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(Identifier.isValid(id))

        let list = try TestSupport.run(tawonctl, ["d", "list", "--socket", daemon.socket])
        #expect(list.stdout.contains("\(id)  syscalls  2"))
        let curl = try TestSupport.run("/usr/bin/curl", ["-s", "--unix-socket", daemon.socket, "http://tawond/v1/directives"])
        let listed = try JSONDecoder().decode(DirectiveList.self, from: Data(curl.stdout.utf8))
        #expect(listed.directives.map(\.id) == [id])
        #expect(listed.directives.first?.conditions == "process.name:nothing-here")

        let tasks = try TestSupport.run(tawonctl, ["task", "list", "--daemon", "--socket", daemon.socket])
        let syscallsRow = tasks.stdout.split(separator: "\n").first { $0.hasPrefix("syscalls ") }?.split(separator: " ")
        #expect(syscallsRow?.prefix(3) == ["syscalls", "0.1.0", "469"])  // 383 x86_64 syscalls and 86 32-bit-only calls
        let described = try TestSupport.run(tawonctl, ["task", "describe", "syscalls", "--daemon", "--socket", daemon.socket])
        #expect(described.stdout.contains("CAP_NET_RAW     socket, sendto, recvfrom, recvmsg, bind, setsockopt, ioctl"))
        let status = try TestSupport.run(tawonctl, ["status", "--socket", daemon.socket])
        #expect(status.stdout.contains("directives: 1;"))

        #expect(try TestSupport.run(tawonctl, ["d", "unsub", "--socket", daemon.socket, id]).status == 0)
        #expect(try await daemon.client.directives().isEmpty)
        let again = try TestSupport.run(tawonctl, ["d", "unsub", "--socket", daemon.socket, id])
        #expect(again.status == 1)
        #expect(again.stderr.contains("tawond: no directive \(id)"))
        let refused = try TestSupport.run(
            tawonctl, ["d", "sub", "--socket", daemon.socket, "-c", "", "-t", "syscalls|functions:read"])
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("a directive needs a condition"))
        #expect(daemon.stop().status == 0)
    }

    @Test("A client that is not root and not in the group is refused")
    func othersAreRefused() async throws {
        try KernelSupport.require()
        let daemon = try await RunningDaemon()
        let asNobody = ["--reuid=nobody", "--regid=nogroup", "--clear-groups", "/usr/bin/curl", "-s",
                        "-w", "\n%{http_code}", "--unix-socket", daemon.socket, "http://tawond/v1/status"]
        var status = stat()
        stat(daemon.socket, &status)
        #expect(status.st_mode & 0o777 == 0o660)
        #expect(status.st_uid == 0)
        // The socket's mode keeps others out...
        let denied = try TestSupport.run("/usr/bin/setpriv", asNobody)
        #expect(denied.stdout.hasSuffix("\n000"))
        // ...and where the file would let them in, the peer credentials do not.
        chmod(daemon.directory.path, 0o755)
        chmod(daemon.socket, 0o666)
        let forbidden = try TestSupport.run("/usr/bin/setpriv", asNobody)
        #expect(forbidden.stdout.hasSuffix("\n403"))
        #expect(forbidden.stdout.contains("uid 65534 is neither root nor in tawond's socket group"))
        #expect(daemon.stop().status == 0)
    }

    @Test("SIGTERM during a flood of events exits within 5 s and leaves no BPF program behind")
    func sigtermDuringFlood() async throws {
        try KernelSupport.require()
        let daemon = try await RunningDaemon()
        let flood = try TracedWorkload(["getppid", "200000000"])
        _ = try await daemon.client.createDirective(
            DirectiveCreation(conditions: "process.pid:\(flood.pid)", tasks: ["syscalls|functions:ALL"]))
        // The daemon's own programs: other suites load theirs meanwhile.
        let ours = LoadedPrograms.heldBy(daemon.pid)
        #expect(ours.count == 10)
        let floodThread = Thread { flood.go() }
        floodThread.start()
        try await Task.sleep(for: .seconds(1))
        #expect(try await daemon.client.status().events.received > 10_000)

        let stopped = daemon.stop()
        kill(flood.process.processIdentifier, SIGKILL)
        #expect(stopped.status == 0)
        #expect(stopped.seconds < 5, "tawond took \(stopped.seconds) s to exit")
        let deadline = ContinuousClock.now + .seconds(15)  // freed after an RCU-tasks grace period
        while try !LoadedPrograms.tawonIDs().isDisjoint(with: ours), ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(try LoadedPrograms.tawonIDs().isDisjoint(with: ours))
    }

    @Test("A reader that stops reading does not raise the kernel's drops; its own are reported")
    func slowReader() async throws {
        try KernelSupport.require()
        let daemon = try await RunningDaemon(["--stream-buffer", "100"])
        let workload = try TracedWorkload(["paced", "60000"])
        let directive = try await daemon.client.createDirective(
            DirectiveCreation(conditions: "process.pid:\(workload.pid)", tasks: ["syscalls|functions:getppid;entryOnly:true"]))
        // A reader that reads 1 KiB a second: far slower than the records come. (Entries only:
        // one record per call, the rate this debug build's daemon was measured to keep up with.)
        let reader = try ChildProcess.spawn(
            ["/usr/bin/curl", "-s", "-N", "--limit-rate", "1k", "--unix-socket", daemon.socket,
             "http://tawond/v1/directives/\(directive.id)/stream"])
        try await waitUntil { try await daemon.client.status().streams.count == 1 }
        workload.go()
        // Written, not only received: tasks may run on a second thread, behind the reader.
        try await waitUntil { try await daemon.client.status().events.emitted >= 60_000 }

        let status = try await daemon.client.status()
        // The plain text names the slow reader and what it lost, not only the total.
        let text = try TestSupport.run(tawonctl, ["status", "--socket", daemon.socket]).stdout
        kill(reader, SIGKILL)
        _ = ChildProcess.wait(reader)
        let readerLine = try #require(text.split(separator: "\n").first { $0.hasPrefix("stream reader ") }, "\(text)")
        #expect(readerLine.contains(" of \(directive.id): ") && readerLine.hasSuffix(" dropped"), "\(readerLine)")
        let dropped = UInt64(readerLine.split(separator: " ").dropLast().last ?? "") ?? 0
        #expect(dropped > 50_000, "\(readerLine)")
        #expect(status.drops.ringBufferFull == 0)
        #expect(status.drops.streamReaders > 50_000)
        #expect(status.streams.first?.dropped == status.drops.streamReaders)
        let metrics = try TestSupport.run("/usr/bin/curl", ["-s", "--unix-socket", daemon.socket, "http://tawond/metrics"])
        let line = try #require(metrics.stdout.split(separator: "\n").first { $0.contains("tawon_records_lost_total{cause=\"stream_reader\"}") })
        #expect((Double(line.split(separator: " ").last ?? "") ?? 0) > 50_000)
        #expect(metrics.stdout.contains("tawon_records_lost_total{cause=\"ring_buffer_full\"} 0"))
        // Each metric says what it is, and every bound is there.
        #expect(metrics.stdout.contains("# HELP tawon_records_lost_total Records lost, by cause."))
        for bound in ["tawon_order_window_seconds 0.001", "tawon_stream_buffer_records 100", "tawon_sink_queue_bytes ",
                      "tawon_pending_calls_capacity 16384", "tawon_awaiting_container_capacity ", "tawon_task_thread_batches "] {
            #expect(metrics.stdout.contains("\n" + bound), "\(bound) missing from /metrics")
        }
        #expect(daemon.stop().status == 0)
    }

    @Test("tawonctl d sub to a file writes every record of a busy directive, whole lines in order, none dropped for it")
    func subscribeToAFileKeepsUp() async throws {
        try KernelSupport.require()
        let calls = 50_000
        // Room for every record in the daemon: this debug build's d sub, under the other suites'
        // load, may fall behind for a while (bench/ measures how fast the release build is).
        let daemon = try await RunningDaemon(["--stream-buffer", "\(calls)"])
        let workload = try TracedWorkload(["paced", "\(calls)"])
        let output = daemon.directory.appending(path: "sub.out").path
        let subscriber = try ChildProcess.spawn(
            [tawonctl, "d", "sub", "--socket", daemon.socket, "-c", "process.pid:\(workload.pid)",
             "-t", "syscalls|functions:getppid;entryOnly:true"], stdout: .path(output), stderr: .path(output + ".err"))
        try await waitUntil(seconds: 30) { try await daemon.client.status().streams.count == 1 }
        workload.go()
        func lines() -> Int { (FileManager.default.contents(atPath: output) ?? Data()).count { $0 == 0x0A } }
        try? await waitUntil(seconds: 60) { lines() >= calls }
        let status = try await daemon.client.status()
        kill(subscriber, SIGINT)
        #expect(ChildProcess.wait(subscriber) == 0)
        #expect(status.drops.streamReaders == 0, "d sub fell behind: \(status.drops.streamReaders) dropped for it")
        let written = (SystemFile.text(output) ?? "").split(separator: "\n", omittingEmptySubsequences: false)
        #expect(written.count == calls + 1 && written.last == "")
        let broken = written.dropLast().filter { !$0.hasPrefix("{\"data\":[{") || !$0.hasSuffix("}") }
        #expect(broken.isEmpty, "\(broken.count) lines not whole records, first: \(broken.first?.prefix(200) ?? "")")
    }

    @Test("tawond lives on when the pipe its log goes to loses its reader")
    func closedLogPipe() async throws {
        try KernelSupport.require()
        var ends: [Int32] = [0, 0]
        try #require(pipe(&ends) == 0)
        let daemon = try await RunningDaemon(["--log-level", "info"], stderr: .descriptor(ends[1]))
        close(ends[1])
        close(ends[0])
        // Every directive started and stopped is logged, into the closed pipe.
        for _ in 0..<3 {
            let directive = try await daemon.client.createDirective(
                DirectiveCreation(conditions: "process.name:nothing-is-named-this", tasks: ["syscalls|functions:getppid"]))
            try await daemon.client.removeDirective(directive.id)
        }
        var status: Int32 = 0
        #expect(waitpid(daemon.pid, &status, WNOHANG) == 0, "tawond ended (wait status \(status))")
        #expect(try await daemon.client.status().directives.isEmpty)
        #expect(daemon.stop().status == 0)
    }

    @Test("A reader that does not read is cut 1 s after its directive is removed; what it never took is counted as lost to it")
    func removedDirectiveCutsAStuckReader() async throws {
        try KernelSupport.require()
        let daemon = try await RunningDaemon()
        let calls = 20_000
        let workload = try TracedWorkload(["paced", "\(calls)"])
        let directive = try await daemon.client.createDirective(
            DirectiveCreation(conditions: "process.pid:\(workload.pid)", tasks: ["syscalls|functions:getppid"]))
        let silent = try UnixSocketClient(path: daemon.socket)
        defer { silent.close() }
        try silent.send("GET /v1/directives/\(directive.id)/stream HTTP/1.1\r\nHost: tawond\r\n\r\n")
        try await waitUntil { try await daemon.client.status().streams.count == 1 }
        workload.go()
        try await waitUntil(seconds: 60) { try await daemon.client.status().events.emitted >= UInt64(calls) }
        try await daemon.client.removeDirective(directive.id)
        let removed = ContinuousClock.now
        try await waitUntil(seconds: 10) { try await daemon.client.status().streams.isEmpty }
        #expect(ContinuousClock.now - removed < .seconds(4))
        // The socket and the daemon's connection hold a few hundred lines; the rest is lost.
        let lost = try await daemon.client.status().drops.streamReaders
        #expect(lost > UInt64(calls / 2), "\(lost) of \(calls) records counted as lost to the reader")
        #expect(daemon.stop().status == 0)
    }

    @Test("A client that closes its stream of a quiet directive but lives on is traced again within seconds")
    func closedStreamEndsTheExclusion() async throws {
        try KernelSupport.require()
        let directory = try TestSupport.temporaryDirectory("closed-stream")
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appending(path: "events.jsonl").path
        let daemon = try await RunningDaemon(["--output", "file:\(file)"])
        // This test's own process reads the stream, and is what the directive selects.
        let directive = try await daemon.client.createDirective(
            DirectiveCreation(conditions: "process.pid:\(getpid())", tasks: ["syscalls|functions:getppid"]))
        let reader = try UnixSocketClient(path: daemon.socket)
        try reader.send("GET /v1/directives/\(directive.id)/stream HTTP/1.1\r\nHost: tawond\r\n\r\n")
        try await waitUntil { try await daemon.client.status().streams.count == 1 }
        reader.close()
        // No record comes to fail a write: the stream's heartbeat finds the reader gone (or,
        // closed before the stream's body ran, its dropped response ends what it held).
        try await waitUntil(seconds: 10) { try await daemon.client.status().streams.isEmpty }
        let deadline = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < deadline, !(SystemFile.text(file) ?? "").contains("\"getppid\"") {
            _ = getppid()
            try await Task.sleep(for: .milliseconds(100))
        }
        let status = try await daemon.client.status()
        #expect((SystemFile.text(file) ?? "").contains("\"getppid\""), "not traced again after closing its stream: \(status.events), \(status.drops); tawond's log ends: \(SystemFile.text(daemon.log)?.suffix(1500) ?? "")")
        #expect(daemon.stop().status == 0)
    }

    @Test("A curl reading the stream of a directive that selects curl never sees its own calls; another curl's calls are in it")
    func streamReaderNeverSeesItself() async throws {
        try KernelSupport.require()
        let directory = try TestSupport.temporaryDirectory("self-stream")
        defer { try? FileManager.default.removeItem(at: directory) }
        let everything = directory.appending(path: "all").path
        let daemon = try await RunningDaemon(["--output", "file:\(everything):compact"])
        let directive = try await daemon.client.createDirective(
            DirectiveCreation(conditions: "process.name:curl", tasks: ["syscalls|functions:read+write+sendto+recvfrom+connect"]))
        let streamed = directory.appending(path: "stream").path
        let reader = try ChildProcess.spawn(
            ["/usr/bin/curl", "-s", "-N", "--max-time", "4", "--unix-socket", daemon.socket,
             "http://tawond/v1/directives/\(directive.id)/stream?format=compact"],
            stdout: .path(streamed))
        try await waitUntil { try await daemon.client.status().streams.count == 1 }
        // Other curls, whose calls the stream carries, and which the reader writes out.
        for _ in 0..<3 {
            _ = try TestSupport.run("/usr/bin/curl", ["-s", "--unix-socket", daemon.socket, "http://tawond/v1/status"])
        }
        _ = ChildProcess.wait(reader)
        let pids = (SystemFile.text(streamed) ?? "").split(separator: "\n").compactMap { line in
            line.split(separator: " ").dropFirst().first.flatMap { Int32($0) }
        }
        // Its calls before it asked (loading, connecting, sending the request) are a curl's
        // like any other (the stream, attached only once the request is read, may come too late
        // for them; the daemon's other output has them); none of its reading of the stream, nor
        // its writing it out, is anywhere.
        #expect(daemon.stop().status == 0)
        let own = (SystemFile.text(streamed) ?? "").split(separator: "\n").filter { $0.contains(" \(reader) curl ") }
        let ownEverywhere = (SystemFile.text(everything) ?? "").split(separator: "\n").filter { $0.contains(" \(reader) curl ") }
        #expect(pids.contains { $0 != reader }, "the other curls' calls were streamed")
        #expect(ownEverywhere.contains { $0.contains(" sendto(") }, "its request was traced")
        #expect(!own.contains { $0.contains(" recvfrom(") || $0.contains(" write(") }, "\(own.suffix(5))")
        #expect(!ownEverywhere.contains { $0.contains(" recvfrom(") || $0.contains(" write(") }, "\(ownEverywhere.suffix(5))")
    }

    @Test("Several outputs at once: a file (JSON) and another file (compact) get every record")
    func fileOutputs() async throws {
        try KernelSupport.require()
        let directory = try TestSupport.temporaryDirectory("outputs")
        defer { try? FileManager.default.removeItem(at: directory) }
        let json = directory.appending(path: "events.jsonl").path
        let compact = directory.appending(path: "events.log").path
        let daemon = try await RunningDaemon(["--output", "file:\(json)", "--output", "file:\(compact):compact"])
        let workload = try TracedWorkload(["write"])
        _ = try await daemon.client.createDirective(
            DirectiveCreation(conditions: "process.pid:\(workload.pid)", tasks: ["syscalls|functions:write"]))
        workload.go()
        try await waitUntil { (SystemFile.text(compact) ?? "").contains("write(") }
        #expect(daemon.stop().status == 0)
        let line = try #require(SystemFile.text(json)?.split(separator: "\n").first)
        #expect(line.hasPrefix("{\"data\":[{\"data\":{\"args\":[{\"name\":\"fd\",\"value\":1}"))
        #expect(SystemFile.text(compact)?.contains("tawon-workload write(fd=1, buf=\"+\", count=1)") == true)
    }

    @Test("d sub to a full disk (/dev/full) exits 1 saying why; Ctrl-C while its pipe is unread ends it within 2 s, its directive gone")
    func subscriberOutputFailures() async throws {
        try KernelSupport.require()
        let daemon = try await RunningDaemon()
        func subscriber(_ workload: TracedWorkload, stdout: ChildProcess.Stream, stderr: ChildProcess.Stream) async throws -> pid_t {
            let pid = try ChildProcess.spawn(
                [tawonctl, "d", "sub", "--socket", daemon.socket, "-c", "process.pid:\(workload.pid)", "-t", "syscalls|functions:getppid"],
                stdout: stdout, stderr: stderr)
            try await waitUntil(seconds: 30) { try await daemon.client.status().streams.count == 1 }
            workload.go()
            return pid
        }

        let errors = daemon.directory.appending(path: "full.err").path
        let full = try await subscriber(TracedWorkload(["paced", "1000"]), stdout: .path("/dev/full"), stderr: .path(errors))
        #expect(ChildProcess.wait(full) == 1)
        let said = SystemFile.text(errors) ?? ""
        #expect(said.contains("tawonctl: writing standard output failed: No space left on device"), "\(said)")
        try await waitUntil(seconds: 15) { try await daemon.client.directives().isEmpty }

        // A pipe nobody reads: d sub is soon stuck with it full (20,000 records are ~10 MB).
        var pipeEnds: [Int32] = [0, 0]
        try #require(pipe(&pipeEnds) == 0)
        for end in pipeEnds { _ = fcntl(end, F_SETFD, FD_CLOEXEC) }
        defer { close(pipeEnds[0]) }
        let stuck = try await subscriber(TracedWorkload(["paced", "20000"]), stdout: .descriptor(pipeEnds[1]), stderr: .path("/dev/null"))
        close(pipeEnds[1])
        var available: Int32 = 0
        try await waitUntil(seconds: 20) { ioctl(pipeEnds[0], UInt(FIONREAD), &available) == 0 && available >= 49152 }
        try await Task.sleep(for: .milliseconds(500))
        let start = ContinuousClock.now
        kill(stuck, SIGINT)
        var status: Int32 = 0
        var ended = false
        while !ended, ContinuousClock.now - start < .seconds(2) {
            ended = waitpid(stuck, &status, WNOHANG) == stuck
            usleep(10_000)
        }
        if !ended { kill(stuck, SIGKILL); _ = ChildProcess.wait(stuck) }
        #expect(ended, "d sub did not end within 2 s of Ctrl-C")
        #expect(!ended || status == 0, "wait status \(status)")
        try await waitUntil(seconds: 5) { try await daemon.client.directives().isEmpty }
        #expect(daemon.stop().status == 0)
    }

    @Test("A d sub killed with SIGKILL or SIGHUP, or whose reader closes the pipe, leaves no directive behind")
    func subscriberGoneRemovesItsDirective() async throws {
        try KernelSupport.require()
        let daemon = try await RunningDaemon()
        for ending in ["SIGKILL", "SIGHUP", "closed pipe"] {
            var pipeEnds: [Int32] = [0, 0]
            #expect(pipe(&pipeEnds) == 0)
            // The subscriber must not hold the read end too, or closing ours would not close the pipe.
            for end in pipeEnds { _ = fcntl(end, F_SETFD, FD_CLOEXEC) }
            let workload = try TracedWorkload(["write"])
            let subscriber = try ChildProcess.spawn(
                [tawonctl, "d", "sub", "--socket", daemon.socket, "-c", "process.pid:\(workload.pid)", "-t", "syscalls|functions:write"],
                stdout: .descriptor(pipeEnds[1]))
            close(pipeEnds[1])
            do { try await waitUntil { try await daemon.client.directives().count == 1 } } catch {
                Issue.record("\(ending): no directive appeared")
            }
            switch ending {
            case "SIGKILL": kill(subscriber, SIGKILL)
            case "SIGHUP": kill(subscriber, SIGHUP)
            default: break
            }
            close(pipeEnds[0])  // the reader goes away (as `| head -1` does once it has its line)
            workload.go()  // a record to write into the closed pipe
            let status = ChildProcess.wait(subscriber)
            if ending == "closed pipe" { #expect(status == 0, "a reader that had enough is not an error") }
            // Killed before its stream was attached, the directive waits 5 s for one: allow for that on a loaded machine.
            do { try await waitUntil(seconds: 15) { try await daemon.client.directives().isEmpty } } catch {
                Issue.record("\(ending): the directive is still there")
            }
        }
        #expect(daemon.stop().status == 0)
    }
}
