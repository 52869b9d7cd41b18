/// Syscalls as tasks hook them and users name them: one function ID per call, whichever ABI the
/// process uses.
///
/// - An x86_64 syscall's ID is its number. A 32-bit call with an x86_64 counterpart (the same
///   name, or a 32-bit form of it: `getuid32`, `ugetrlimit`, `fstatat64`, `clock_gettime64`)
///   shares that ID, so hooking `getuid` catches both.
/// - A call only a 32-bit process can make (`mmap2`, `socketcall`, the 16-bit uid calls, the calls
///   with 32-bit times) has its own ID from `i386OnlyBase` on, in a fixed order that never changes.
/// - `socketcall` and `ipc` reach the host as the call they carry (see `SYSCALLS_I386_*` in
///   bpf/syscalls.h); the few calls that exist on i386 only inside them (`accept`, `send`, `recv`,
///   `semop`, `semtimedop`) have numbers after the i386 table.
extension SyscallTable {
    /// The first ID of a call that exists only for 32-bit processes.
    public static let i386OnlyBase: UInt64 = 3000

    /// The 32-bit-only calls in ID order: the name a task registers, and the i386 number.
    /// Where the kernel's name is taken by an x86_64 call of other width (`getuid` with 16-bit
    /// ids, `clock_gettime` with 32-bit times), the registered name says which form it is.
    static let i386Only: [(name: String, number: Int)] = [
        ("waitpid", 7), ("oldfstat", 28), ("break", 17), ("oldstat", 18), ("umount", 22), ("stime", 25),
        ("stty", 31), ("gtty", 32), ("nice", 34), ("ftime", 35), ("prof", 44), ("signal", 48), ("lock", 53),
        ("mpx", 56), ("ulimit", 58), ("oldolduname", 59), ("sigaction", 67), ("sgetmask", 68),
        ("ssetmask", 69), ("sigsuspend", 72), ("sigpending", 73), ("oldlstat", 84), ("readdir", 89),
        ("profil", 98), ("socketcall", 102), ("olduname", 109), ("idle", 112), ("vm86old", 113), ("ipc", 117),
        ("sigreturn", 119), ("sigprocmask", 126), ("bdflush", 134), ("afs_syscall32", 137), ("_llseek", 140),
        ("old_select", 82), ("vm86", 166), ("old_getrlimit", 76), ("mmap2", 192), ("truncate64", 193),
        ("ftruncate64", 194), ("stat64", 195), ("lstat64", 196), ("fstat64", 197), ("lchown16", 16),
        ("getuid16", 24), ("getgid16", 47), ("geteuid16", 49), ("getegid16", 50), ("setreuid16", 70),
        ("setregid16", 71), ("getgroups16", 80), ("setgroups16", 81), ("fchown16", 95), ("setresuid16", 164),
        ("getresuid16", 165), ("setresgid16", 170), ("getresgid16", 171), ("chown16", 182), ("setuid16", 23),
        ("setgid16", 46), ("setfsuid16", 138), ("setfsgid16", 139), ("fcntl64", 221), ("sendfile32", 187),
        ("statfs64", 268), ("fstatfs64", 269), ("fadvise64_64", 272), ("clock_gettime32", 265),
        ("clock_settime32", 264), ("clock_adjtime32", 343), ("clock_getres_time32", 266),
        ("clock_nanosleep_time32", 267), ("timer_gettime32", 261), ("timer_settime32", 260),
        ("timerfd_gettime32", 326), ("timerfd_settime32", 325), ("utimensat_time32", 320),
        ("pselect6_time32", 308), ("ppoll_time32", 309), ("io_pgetevents_time32", 385),
        ("recvmmsg_time32", 337), ("mq_timedsend_time32", 279), ("mq_timedreceive_time32", 280),
        ("rt_sigtimedwait_time32", 177), ("futex_time32", 240), ("sched_rr_get_interval32", 161),
    ]

    /// Other names users know these calls by (the kernel's, tracee's), for `functions:`.
    static let i386OnlyAliases: [String: String] = [
        "llseek": "_llseek", "afs_syscall": "afs_syscall32", "clock_adjtime64": "clock_adjtime32",
        "sched_rr_get_interval_time32": "sched_rr_get_interval32",
    ]

    /// The i386 names whose x86_64 counterpart is not found by the general rules below.
    static let i386Counterparts: [String: String] = [
        "_newselect": "select", "ugetrlimit": "getrlimit", "fstatat64": "newfstatat", "send": "sendto",
        "recv": "recvfrom", "clock_adjtime64": "clock_adjtime",
    ]

    /// Every function a task can hook: the x86_64 syscalls, then the 32-bit-only calls, with the
    /// signature their events are decoded with (a 32-bit-only call's is its i386 one, named as
    /// registered).
    public static let functions: [(id: UInt64, signature: SyscallSignature)] =
        x86_64Signatures.map { (UInt64($0.number), $0) }
        + i386Only.enumerated().compactMap { index, call in
            guard let kernel = signature(number: call.number, abi: .i386) else { return nil }
            return (i386OnlyBase + UInt64(index),
                    SyscallSignature(number: kernel.number, name: call.name,
                                     argumentNames: kernel.argumentNames, argumentTypes: kernel.argumentTypes))
        }

    /// The function registered under `id`, if there is one.
    public static func function(id: UInt64) -> SyscallSignature? {
        functionsByID[id]
    }

    /// The function a user means by `name`: an x86_64 syscall, a 32-bit-only call, or the 32-bit
    /// name of an x86_64 call (`getuid32` is `getuid`).
    public static func functionID(named name: String) -> UInt64? {
        if let native = signature(named: name) { return UInt64(native.number) }
        if let id = i386OnlyIDsByName[i386OnlyAliases[name] ?? name] { return id }
        if let number = i386NumbersByName[name] { return functionID(i386Number: number) }
        return nil
    }

    /// The 32-bit-only functions that are the same call as the x86_64 syscall `name` with other
    /// widths (`getuid` with 16-bit ids, `clock_nanosleep` with 32-bit times): the kernel's i386
    /// table gives them that very name.
    public static func narrowerForms(of name: String) -> [UInt64] {
        guard let number = i386NumbersByName[name], let id = functionID(i386Number: number),
            id >= i386OnlyBase
        else { return [] }
        return [id]
    }

    /// The function a 32-bit process's call `number` (as the kernel program reports it) is.
    public static func functionID(i386Number number: Int) -> UInt64? {
        number >= 0 && number < i386FunctionIDs.count ? i386FunctionIDs[number] : nil
    }

    /// The i386 numbers that are calls of the function `id`, to hook beside its x86_64 number.
    public static func i386Numbers(ofFunction id: UInt64) -> [Int] {
        i386NumbersByFunction[id] ?? []
    }

    private static let functionsByID = Dictionary(functions.map { ($0.id, $0.signature) }, uniquingKeysWith: { a, _ in a })
    private static let i386OnlyIDsByName = Dictionary(
        i386Only.enumerated().map { ($0.element.name, i386OnlyBase + UInt64($0.offset)) }, uniquingKeysWith: { a, _ in a })
    private static let i386NumbersByName = Dictionary(
        all(.i386).map { ($0.name, $0.number) }, uniquingKeysWith: { a, _ in a })

    /// i386 number -> function ID, dense.
    private static let i386FunctionIDs: [UInt64?] = {
        let onlyByNumber = Dictionary(
            i386Only.enumerated().map { ($0.element.number, i386OnlyBase + UInt64($0.offset)) },
            uniquingKeysWith: { a, _ in a })
        var ids = [UInt64?](repeating: nil, count: (all(.i386).last?.number ?? 0) + 1)
        for call in all(.i386) {
            ids[call.number] = onlyByNumber[call.number] ?? counterpart(ofI386: call.name).map { UInt64($0.number) }
        }
        return ids
    }()

    private static let i386NumbersByFunction: [UInt64: [Int]] = {
        var numbers: [UInt64: [Int]] = [:]
        for (number, id) in i386FunctionIDs.enumerated() {
            if let id { numbers[id, default: []].append(number) }
        }
        return numbers
    }()

    /// The x86_64 call whose arguments a 32-bit call's arguments mean the same as (`mmap2`'s
    /// flags are `mmap`'s), to render them alike.
    public static func x86_64Form(ofI386 name: String) -> String? {
        if let same = sameArguments[name] { return same }
        return counterpart(ofI386: name)?.name
    }

    private static let sameArguments: [String: String] = [
        "mmap2": "mmap", "fcntl64": "fcntl", "_llseek": "lseek", "stat64": "stat", "lstat64": "lstat",
        "fstat64": "fstat", "truncate64": "truncate", "ftruncate64": "ftruncate", "statfs64": "statfs",
        "fstatfs64": "fstatfs", "fadvise64_64": "fadvise64", "sigaction": "rt_sigaction",
        "sigprocmask": "rt_sigprocmask", "signal": "rt_sigaction", "waitpid": "wait4",
    ]

    /// The x86_64 syscall a 32-bit call is a form of: the same name, the name without the suffix
    /// that marks wider ids or times (`32`, `_time64`, `64`), or a known other name.
    static func counterpart(ofI386 name: String) -> SyscallSignature? {
        if let named = i386Counterparts[name] { return signature(named: named) }
        if let same = signature(named: name) { return same }
        for suffix in ["_time64", "32", "64"] where name.hasSuffix(suffix) {
            if let base = signature(named: String(name.dropLast(suffix.count))) { return base }
        }
        return nil
    }
}
