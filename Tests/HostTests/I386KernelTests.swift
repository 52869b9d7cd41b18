import Foundation
import Host
import Testing

/// A 32-bit process: its calls under the names strace gives them, including the calls only a
/// 32-bit process has and the calls 32-bit glibc makes through socketcall and ipc.
@Suite("32-bit calls against strace (kernel)", .serialized)
struct I386KernelTests {
    static let binary = TestSupport.compileFixture("m32.c", as: "tawon-m32", flags: ["-m32"])
    /// Calls whose every argument and result strace renders as tawon does.
    static let comparedInFull: Set<String> = [
        "getuid32", "geteuid32", "socket", "send", "close", "openat", "fcntl64", "write",
    ]

    @Test("Every call strace -f shows after the go line appears under the same name, in order")
    func sameCallsAsStrace() throws {
        try KernelSupport.require()
        let directory = try TestSupport.temporaryDirectory("m32-run")
        defer { try? FileManager.default.removeItem(at: directory) }
        let log = directory.appending(path: "strace.txt").path
        let traced = try TestSupport.run(
            "/usr/bin/env", ["strace", "-f", "-qq", "-o", log, Self.binary], in: directory, stdin: "go\n")
        try #require(traced.status == 0, "\(traced.stderr)")
        let lines = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n")
            .map { $0.drop { $0.isNumber || $0 == " " } }  // -f prefixes the pid
            .compactMap(StraceLine.init)
        let go = try #require(lines.firstIndex { $0.name == "read" && $0.arguments.hasPrefix("0,") })
        let reference = Array(lines[(go + 1)...])

        let tracer = CollectingSession()
        let workload = try TracedWorkload([], executable: Self.binary, directory: directory)
        let records = try tracer.trace({ "process.pid:\($0)" }, ["syscalls|functions:ALL"], workload: workload)
        let all = try records.map { try JSONDecoder().decode(SyscallData.self, from: Data($0.json.utf8)) }
        // The program was blocked in its read of the go line when tracing began.
        let ours = Array(all.drop { $0.function == "read" })

        // exit_group never returns: strace ends its line "= ?".
        #expect(ours.map(\.function) == reference.map(\.name), "strace: \(reference.map(\.name))")
        var equal = 0
        var compared = 0
        for (theirs, mine) in zip(reference, ours) where Self.comparedInFull.contains(theirs.name) {
            let names = mine.args?.map(\.name) ?? []
            #expect(theirs.argumentList.count == names.count, "\(theirs.name): strace \(theirs.argumentList), tawon \(names)")
            for (value, argument) in zip(theirs.argumentList, mine.args ?? []) {
                compared += 1
                if StraceLine.unquoted(value) == argument.value.rendered { equal += 1 } else {
                    Issue.record("\(theirs.name).\(argument.name): strace \(value), tawon \(argument.value.rendered)")
                }
            }
            compared += 1
            if theirs.result == mine.renderedResult { equal += 1 } else {
                Issue.record("\(theirs.name) returned: strace \(theirs.result), tawon \(mine.renderedResult)")
            }
        }
        print("32-bit calls: \(ours.count) of \(reference.count) by name; \(equal) of \(compared) values equal")
        #expect(compared > 20)
        #expect(equal == compared)
    }

    @Test("functions: selects 32-bit-only calls by name, and socket made through socketcall as socket")
    func selectionByName() throws {
        try KernelSupport.require()
        let tracer = CollectingSession()
        let workload = try TracedWorkload([], executable: Self.binary)
        let records = try tracer.trace(
            { "process.pid:\($0)" }, ["syscalls|functions:mmap2+socket+getuid+shmget"], workload: workload)
        let names = try records.map { try JSONDecoder().decode(SyscallData.self, from: Data($0.json.utf8)).function }
        #expect(names == ["mmap2", "getuid32", "socket", "shmget"])
    }
}
