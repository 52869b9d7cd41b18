import Foundation
import Testing

@testable import Host

/// The host's side of the pre-filter, on a file mapped as the kernel's map is.
@Suite("Watched pid bits")
struct WatchedPidBitsTests {
    /// Two words (tgids 0 to 127) in a file that stands in for the map.
    static func bits() throws -> (WatchedPidBits, Int32) {
        let path = try TestSupport.temporaryDirectory("pid-bits").appending(path: "words").path
        let descriptor = open(path, O_RDWR | O_CREAT, 0o600)
        defer { unlink(path) }
        try #require(descriptor >= 0 && ftruncate(descriptor, 4096) == 0)
        return (try WatchedPidBits(mapDescriptor: descriptor, wordCount: 2), descriptor)
    }

    static func word(_ descriptor: Int32, _ index: Int) -> UInt64 {
        var value: UInt64 = 0
        _ = pread(descriptor, &value, 8, off_t(index * 8))
        return value
    }

    @Test("A bit per tgid, in the word the kernel reads: tgid / 64, bit tgid % 64")
    func layout() throws {
        let (bits, descriptor) = try Self.bits()
        defer { close(descriptor) }
        bits.mark(0)
        bits.mark(63)
        bits.mark(64)
        bits.mark(127)
        #expect(Self.word(descriptor, 0) == (1 as UInt64) | 1 << 63)
        #expect(Self.word(descriptor, 1) == (1 as UInt64) | 1 << 63)
        #expect(bits.contains(63) && !bits.contains(62))
        bits.unmark(63) { false }
        #expect(Self.word(descriptor, 0) == 1 && !bits.contains(63))
    }

    @Test("An entry found after the bit was cleared keeps its bit")
    func unmarkRechecks() throws {
        let (bits, descriptor) = try Self.bits()
        defer { close(descriptor) }
        bits.mark(5)
        var asked = false
        bits.unmark(5) {
            asked = !bits.contains(5)  // asked only once the bit is clear
            return true
        }
        #expect(asked && bits.contains(5))
    }

    @Test("A tgid beyond the words is always looked up, and changes nothing")
    func beyondCapacity() throws {
        let (bits, descriptor) = try Self.bits()
        defer { close(descriptor) }
        #expect(bits.capacity == 128)
        bits.mark(128)
        bits.mark(UInt32.max)
        #expect(Self.word(descriptor, 0) == 0 && Self.word(descriptor, 1) == 0)
        #expect(bits.contains(128) && bits.contains(UInt32.max))
        bits.unmark(UInt32.max) { false }
        #expect(bits.contains(UInt32.max))
    }

    @Test("Sized from pid_max, within the kernel's own limit")
    func wordCount() {
        let count = WatchedPidBits.wordCount
        #expect(count >= 1 && count <= WatchedPidBits.pidMaxLimit / 64)
        let pidMax = (try? String(contentsOfFile: "/proc/sys/kernel/pid_max", encoding: .utf8))
            .flatMap { UInt32($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        if let pidMax { #expect(count * 64 >= pidMax) }
    }
}

/// The watch list's pre-filter: a bit per tgid that lets the programs skip the hash lookup for
/// processes nobody watches. It may be set for a process without an entry, never clear for one
/// with an entry.
@Suite("Watched pid bits (kernel)", .serialized)
struct WatchedPidBitsKernelTests {
    static func start(_ path: String, _ arguments: [String]) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        return process
    }

    @Test("A process selected when the directive starts gets its bit, one decided against after exec loses it, and an exit clears it; the selected one's calls are reported")
    func bitsFollowDecisions() throws {
        try KernelSupport.require()
        let input = Pipe()
        let cat = Process()
        cat.executableURL = URL(fileURLWithPath: "/bin/cat")
        cat.standardInput = input
        cat.standardOutput = FileHandle.nullDevice
        try cat.run()
        let tracer = CollectingSession()
        defer { tracer.session.close() }
        let summary = try tracer.session.add(
            DirectiveRequest(conditions: "process.name:cat", tasks: [try TaskSpec.parse("syscalls|functions:read")]))
        let program = try #require(tracer.session.dispatcher.kernelSource).process
        let sleeper = try Self.start("/bin/sleep", ["30"])
        defer { kill(sleeper.processIdentifier, SIGKILL) }
        let (sleepPID, catPID) = (UInt32(sleeper.processIdentifier), UInt32(cat.processIdentifier))
        #expect(program.mayBeWatched(tgid: catPID) && program.watchMask(tgid: catPID) != nil)
        let deadline = ContinuousClock.now + .seconds(5)
        while ContinuousClock.now < deadline, program.mayBeWatched(tgid: sleepPID) {
            try tracer.session.poll(timeoutMilliseconds: 20)
        }
        #expect(!program.mayBeWatched(tgid: sleepPID), "sleep is selected by no directive: no lookup for its calls")
        #expect(program.watchMask(tgid: sleepPID) == nil)

        input.fileHandleForWriting.write(Data("line one\n".utf8))
        try input.fileHandleForWriting.close()
        cat.waitUntilExit()
        for _ in 0..<10 { try tracer.session.poll(timeoutMilliseconds: 20) }
        let reads = tracer.collector.all.filter {
            $0.directiveID == summary.id && $0.json.contains("\"pid\":\(catPID)") && $0.json.contains("\"function\":\"read\"")
        }
        #expect(reads.contains { $0.json.contains("line one") }, "cat's read of its input is reported: \(reads.map(\.json))")
        #expect(!program.mayBeWatched(tgid: catPID), "an exited process has no bit left")
    }

    @Test("Under a storm of forks and execs, some selected and some not, every watched tgid has its bit")
    func noEntryWithoutItsBit() throws {
        try KernelSupport.require()
        let tracer = CollectingSession()
        defer { tracer.session.close() }
        _ = try tracer.session.add(
            DirectiveRequest(conditions: "process.name:true", tasks: [try TaskSpec.parse("syscalls|functions:getpid")]))
        let program = try #require(tracer.session.dispatcher.kernelSource).process
        let storm = try Self.start("/bin/sh", ["-c", "i=0; while [ $i -lt 400 ]; do /bin/true; /bin/echo x; ( : ); i=$((i+1)); done"])
        var checked = 0
        var hidden: [UInt32] = []
        while storm.isRunning {
            try tracer.session.poll(timeoutMilliseconds: 1)
            for (tgid, _) in program.watchedProcesses() {
                checked += 1
                // The kernel sets a bit just after adding its entry: a clear bit is looked at
                // again a moment later before it counts as hiding the entry.
                guard !program.mayBeWatched(tgid: tgid) else { continue }
                usleep(2000)
                if !program.mayBeWatched(tgid: tgid), program.watchMask(tgid: tgid) != nil { hidden.append(tgid) }
            }
        }
        storm.waitUntilExit()
        #expect(checked > 0, "the storm's processes were watched while undecided")
        #expect(hidden.isEmpty, "entries whose bit was clear: \(hidden.prefix(10))")
    }
}
