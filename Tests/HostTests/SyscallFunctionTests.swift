import CTawonBPF
import SyscallTable
import Testing

/// Function IDs: what tasks hook and users name, for both ABIs.
@Suite("Syscall functions of both ABIs")
struct SyscallFunctionTests {
    @Test("Every i386 call is some function; the 32-bit-only ones keep their fixed IDs from 3000")
    func everyI386CallHasAFunction() {
        for call in SyscallTable.all(.i386) {
            #expect(SyscallTable.functionID(i386Number: call.number) != nil, "i386 \(call.number) \(call.name)")
        }
        let expected: [(String, UInt64)] = [
            ("waitpid", 3000), ("socketcall", 3024), ("ipc", 3028), ("_llseek", 3033), ("mmap2", 3037),
            ("getuid16", 3044), ("fcntl64", 3062), ("clock_gettime32", 3067), ("sched_rr_get_interval32", 3085),
        ]
        for (name, id) in expected {
            #expect(SyscallTable.functionID(named: name) == id, "\(name)")
            #expect(SyscallTable.function(id: id)?.name == name)
        }
        #expect(SyscallTable.function(id: 3086) == nil)
        #expect(SyscallTable.function(id: UInt64.max) == nil)
    }

    @Test("A 32-bit form is the x86_64 function: getuid32, ugetrlimit, fstatat64, clock_gettime64, _newselect")
    func formsShareTheFunction() {
        for (i386, native) in [("getuid32", "getuid"), ("ugetrlimit", "getrlimit"), ("fstatat64", "newfstatat"),
                               ("clock_gettime64", "clock_gettime"), ("_newselect", "select"), ("send", "sendto"),
                               ("socket", "socket")] {
            let number = SyscallTable.all(.i386).first { $0.name == i386 }!.number
            #expect(SyscallTable.functionID(i386Number: number) == UInt64(SyscallTable.signature(named: native)!.number), "\(i386)")
            #expect(SyscallTable.i386Numbers(ofFunction: UInt64(SyscallTable.signature(named: native)!.number)).contains(number))
        }
        // The kernel's i386 getuid (16-bit ids) is its own function, selected beside getuid.
        #expect(SyscallTable.narrowerForms(of: "getuid") == [SyscallTable.functionID(named: "getuid16")!])
        #expect(SyscallTable.functionID(named: "getuid32") == SyscallTable.functionID(named: "getuid"))
    }

    @Test("The calls inside socketcall and ipc have the numbers the kernel program reports")
    func multiplexedNumbers() {
        let numbers = Dictionary(uniqueKeysWithValues: SyscallTable.i386MultiplexedOnly.map { ($0.name, $0.number) })
        #expect(numbers["accept"] == Int(SYSCALLS_I386_ACCEPT))
        #expect(numbers["send"] == Int(SYSCALLS_I386_SEND))
        #expect(numbers["recv"] == Int(SYSCALLS_I386_RECV))
        #expect(numbers["semop"] == Int(SYSCALLS_I386_SEMOP))
        #expect(numbers["semtimedop"] == Int(SYSCALLS_I386_SEMTIMEDOP))
        #expect(SyscallTable.all(.i386).dropLast(5).last!.number < Int(SYSCALLS_I386_ACCEPT))
        #expect(Int(SYSCALLS_I386_SEMTIMEDOP) < Int(SYSCALLS_TABLE_SIZE))
    }
}
