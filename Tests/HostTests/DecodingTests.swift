import Foundation
@testable import Host
import SyscallTable
import Testing

@Suite("Decoding syscall arguments")
struct DecodingTests {
    @Test("Captured bytes are escaped the strace way, truncation marked")
    func escaping() {
        #expect(ByteEscaping.escape(Array("+".utf8), truncated: false) == "+")
        #expect(ByteEscaping.escape([0x61, 0x22, 0x5C, 0x0A, 0x09, 0x0D, 0x00, 0xFF], truncated: false)
            == #"a\"\\\n\t\r\0\377"#)
        // As strace: three octal digits before a digit, \v and \f by name, DEL in octal.
        #expect(ByteEscaping.escape([0x10, 0x35, 0x01, 0x0B, 0x0C, 0x7F, 0x38], truncated: false) == #"\0205\1\v\f\1778"#)
        #expect(ByteEscaping.escape(Array("abc".utf8), truncated: true) == "abc...")
    }

    @Test("Socket addresses read as strace renders them")
    func sockaddrs() {
        #expect(SockaddrDecoding.describe([2, 0, 0x1F, 0x90, 127, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0])
            == #"{sa_family=AF_INET, sin_port=htons(8080), sin_addr=inet_addr("127.0.0.1")}"#)
        let six: [UInt8] = [10, 0, 0, 80, 0, 0, 0, 0] + [UInt8](repeating: 0, count: 15) + [1, 0, 0, 0, 0]
        #expect(SockaddrDecoding.describe(six)
            == #"{sa_family=AF_INET6, sin6_port=htons(80), sin6_flowinfo=htonl(0), inet_pton(AF_INET6, "::1", &sin6_addr), sin6_scope_id=0}"#)
        #expect(SockaddrDecoding.describe([1, 0] + Array("/run/x.sock".utf8) + [0]) == #"{sa_family=AF_UNIX, sun_path="/run/x.sock"}"#)
        #expect(SockaddrDecoding.describe([1, 0, 0] + Array("abstract".utf8)) == #"{sa_family=AF_UNIX, sun_path=@"abstract"}"#)
        #expect(SockaddrDecoding.describe([16, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]) == "{sa_family=AF_NETLINK, nl_pid=0, nl_groups=00000000}")
        #expect(SockaddrDecoding.describe([2]) == "{}")
        #expect(SockaddrDecoding.describe([2, 0, 1]) == "{sa_family=AF_INET}")
    }

    @Test("Capture plans follow the argument types: paths, input buffers with their lengths, sockaddrs")
    func capturePlans() throws {
        func plan(_ name: String) throws -> [CapturePlan.Capture] {
            CapturePlan.plan(for: try #require(SyscallTable.signature(named: name))).arguments
        }
        #expect(try plan("openat") == [.none, .string, .none, .none])
        #expect(try plan("write") == [.none, .buffer(lengthArgument: 2), .none])
        #expect(try plan("read") == [.none, .none, .none])
        #expect(try plan("truncate") == [.string, .none])
        #expect(try plan("bind") == [.none, .sockaddr(lengthArgument: 2), .none])
        #expect(try plan("accept") == [.none, .none, .none])
        #expect(try plan("sendto")[1] == .buffer(lengthArgument: 2))
        #expect(try plan("sendto")[4] == .sockaddr(lengthArgument: 5))
        #expect(try plan("mount").prefix(3) == [.string, .string, .string])
        #expect(try plan("rename") == [.string, .string])
    }

    @Test("Flags and constants read as strace prints them")
    func symbols() throws {
        func decode(_ name: String, _ arguments: [UInt64]) throws -> [DeliverableEvent.Argument.Value] {
            let signature = try #require(SyscallTable.signature(named: name))
            var record = try #require(SyscallRecord(testArguments: arguments, number: signature.number))
            record.arguments = SyscallArguments(arguments)
            return ArgumentDecoder.decode(record, signature: signature).map(\.value)
        }
        #expect(try decode("openat", [UInt64(bitPattern: -100), 0x1000, 0o2000101, 0o640])
            == [.text("AT_FDCWD", truncated: false), .text("0x1000", truncated: false),
                .text("O_WRONLY|O_CREAT|O_CLOEXEC", truncated: false), .text("0640", truncated: false)])
        #expect(try decode("socket", [17, 3, 768])
            == [.text("AF_PACKET", truncated: false), .text("SOCK_RAW", truncated: false), .signed(768)])
        #expect(try decode("socket", [10, 0o2000001, 6])
            == [.text("AF_INET6", truncated: false), .text("SOCK_STREAM|SOCK_CLOEXEC", truncated: false),
                .text("IPPROTO_TCP", truncated: false)])
        #expect(try decode("kill", [42, 9]) == [.signed(42), .text("SIGKILL", truncated: false)])
        #expect(try decode("prctl", [24, 13, 0, 0, 0])[1] == .text("CAP_NET_RAW", truncated: false))
        #expect(try decode("prctl", [47, 2, 21, 0, 0])[1...2]
            == [.text("PR_CAP_AMBIENT_RAISE", truncated: false), .text("CAP_SYS_ADMIN", truncated: false)])
        #expect(try decode("close", [UInt64(bitPattern: -1)]) == [.signed(-1)])
        #expect(try decode("wait4", [0xFFFF_FFFF, 0, 0, 0])[0] == .signed(-1))  // -1 in a 32-bit register
        #expect(try decode("lseek", [3, UInt64(bitPattern: -5), 1])
            == [.signed(3), .signed(-5), .text("SEEK_CUR", truncated: false)])
    }

    @Test("functions:@FILE and @- read names on the client side; ALL from a file is refused")
    func functionFiles() throws {
        let directory = try TestSupport.temporaryDirectory("functions")
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appending(path: "names.txt").path
        try "read\nwrite, sendto+recvfrom\n".write(toFile: file, atomically: true, encoding: .utf8)
        let spec = try TaskSpec.parse("syscalls|functions:@\(file);compact:true")
        #expect(try FunctionFileExpansion.expand(spec).options.first?.value == "read+write+sendto+recvfrom")
        let stdin = try FunctionFileExpansion.expand(
            try TaskSpec.parse("syscalls|functions:@-"), readStandardInput: { Array("send_msg+recv_msg+read+write+open\n".utf8) })
        #expect(stdin.options.first?.value == "send_msg+recv_msg+read+write+open")
        #expect(throws: DirectiveError(
            "functions:@-: ALL cannot be read from a file; use functions:ALL or list the names"))
        { try FunctionFileExpansion.expand(try TaskSpec.parse("syscalls|functions:@-"), readStandardInput: { Array("ALL".utf8) }) }
        #expect(throws: DirectiveError.self) {
            try FunctionFileExpansion.expand(try TaskSpec.parse("syscalls|functions:@/nonexistent/file"))
        }
    }
}

extension SyscallRecord {
    /// A record as the kernel would send it (header only, no captures), for decoding tests.
    init?(testArguments arguments: [UInt64], number: Int) {
        var raw = [UInt8](repeating: 0, count: SyscallRecord.headerSize)
        raw.withUnsafeMutableBytes { bytes in
            bytes.storeBytes(of: UInt32(1), toByteOffset: 0, as: UInt32.self)  // a syscall record
        }
        guard let record = raw.withUnsafeBytes({ SyscallRecord($0) }) else { return nil }
        self = record
        self.number = number
    }
}

@Suite("Calls in flight")
struct PendingCallsTests {
    @Test("An exit joins the held entry of its thread only when it is the same call: same function and arguments; another call's exit leaves the held one unreturned")
    func joinsOnlyTheSameCall() throws {
        var entry = try #require(SyscallRecord(testArguments: [], number: 1))
        entry.arguments = SyscallArguments([1, 0x1000, 5])
        entry.tid = 42
        var calls = PendingCalls()
        #expect(calls.hold(PendingCall(entry: entry, functionID: 1, directives: 1, generation: 1)) == nil)
        var sameCall = entry
        sameCall.moment = .exit
        sameCall.returnValue = 5
        guard case .joined = calls.take(matching: sameCall) else { Issue.record("the call's own exit did not join"); return }

        #expect(calls.hold(PendingCall(entry: entry, functionID: 1, directives: 1, generation: 1)) == nil)
        var nextWrite = entry
        nextWrite.arguments = SyscallArguments([1, 0x2000, 6])
        nextWrite.moment = .exit
        nextWrite.returnValue = 6
        guard case .unmatched(let unreturned) = calls.take(matching: nextWrite) else {
            Issue.record("a later write's exit joined the held write")
            return
        }
        #expect(unreturned?.entry.arguments[1] == 0x1000)
        #expect(calls.isEmpty)
    }
}
