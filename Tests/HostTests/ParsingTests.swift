import Foundation
@testable import Host
import SyscallTable
import Testing

@Suite("Small parsers")
struct ParsingTests {
    @Test("A -t argument splits into task name and options", arguments: [
        ("syscalls|functions:read+write", TaskSpec(taskName: "syscalls", options: [("functions", "read+write")])),
        ("syscalls|capabilities:CAP_NET_RAW;compact:true",
         TaskSpec(taskName: "syscalls", options: [("capabilities", "CAP_NET_RAW"), ("compact", "true")])),
        ("syscalls|functions:@/tmp/a:b.txt", TaskSpec(taskName: "syscalls", options: [("functions", "@/tmp/a:b.txt")])),
        ("demo", TaskSpec(taskName: "demo")),
        ("syscalls|functions:chown;demo:cap_chown;",
         TaskSpec(taskName: "syscalls", options: [("functions", "chown"), ("demo", "cap_chown")])),
    ])
    func taskSpecParses(text: String, expected: TaskSpec) throws {
        #expect(try TaskSpec.parse(text) == expected)
    }

    @Test("A malformed -t argument says what is wrong", arguments: [
        ("|functions:read", #"-t "|functions:read": no task name before '|'"#),
        ("syscalls|functions", #"-t "syscalls|functions": option 'functions' is not name:value"#),
        ("syscalls|compact:true;compact:false", #"-t "syscalls|compact:true;compact:false": option 'compact' is given twice"#),
    ])
    func taskSpecErrors(text: String, message: String) {
        #expect(throws: TaskSpecError.self) { try TaskSpec.parse(text) }
        do { _ = try TaskSpec.parse(text) } catch { #expect(error.description == message) }
    }

    @Test("Option values parse as their registered type")
    func optionValues() {
        #expect(OptionValueParser.parse("TRUE", as: .bool) == .success(.bool(true)))
        #expect(OptionValueParser.parse("10", as: .int64) == .success(.int64(10)))
        #expect(OptionValueParser.parse("ten", as: .int64)
            == .failure(OptionValueError(text: "ten", expected: "a whole number")))
        #expect(OptionValueParser.parse("", as: .string) == .success(.string("")))
    }

    @Test("The syscall tables hold every x86_64 and i386 syscall with arguments")
    func syscallTables() throws {
        let x86 = SyscallTable.all(.x86_64)
        for number in Array(0...334) + Array(424...448) {
            #expect(SyscallTable.signature(number: number) != nil, "x86_64 \(number) missing")
        }
        #expect(SyscallTable.highestNumber >= 469)
        #expect(Set(x86.map(\.name)).count == x86.count)
        let openat = try #require(SyscallTable.signature(named: "openat"))
        #expect(openat.number == 257)
        #expect(openat.argumentNames == ["dfd", "filename", "flags", "mode"])
        #expect(SyscallTable.signature(number: 4, abi: .i386)?.name == "write")
        #expect(SyscallTable.signature(number: 102, abi: .i386)?.name == "socketcall")
        #expect(SyscallTable.signature(number: 140, abi: .i386)?.argumentNames.count == 5)
        // i386's clone passes tls before child_tidptr; x86_64's after.
        #expect(SyscallTable.signature(number: 120, abi: .i386)?.argumentNames == ["clone_flags", "newsp", "parent_tidptr", "tls", "child_tidptr"])
        #expect(SyscallTable.signature(number: 56)?.argumentNames == ["clone_flags", "newsp", "parent_tidptr", "child_tidptr", "tls"])
        for signature in x86 + SyscallTable.all(.i386) {
            #expect(signature.argumentNames.count == signature.argumentTypes.count)
            #expect(signature.argumentNames.count <= 6)
        }
    }
}

@Suite("Paths from /proc")
struct ProcPathTests {
    @Test("A relative executable path is made absolute from the first working directory still there")
    func relativeExecutables() {
        let here = FileManager.default.currentDirectoryPath
        let me = UInt32(getpid())
        #expect(ProcFS.absolute("./bin/tool", fromWorkingDirectoryOf: [me]) == here + "/bin/tool")
        #expect(ProcFS.absolute("tool", fromWorkingDirectoryOf: [UInt32.max, me]) == here + "/tool", "a pid gone: the next one's")
        #expect(ProcFS.absolute("../tool", fromWorkingDirectoryOf: [me]) == URL(fileURLWithPath: here).deletingLastPathComponent().appending(path: "tool").path)
        #expect(ProcFS.absolute("tool", fromWorkingDirectoryOf: [UInt32.max]) == nil)
    }
}
