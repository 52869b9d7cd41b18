import CTawonBPF
import SyscallTable

/// Which arguments of a syscall carry user memory worth capturing, derived from the argument
/// types in the syscall table: its inputs before it returned (`plan`), and at its return its
/// inputs and what it wrote (`exitPlan`).
public struct CapturePlan: Sendable, Equatable {
    public enum Capture: Sendable, Equatable {
        case none
        /// A NUL-terminated string (a path, a name).
        case string
        /// A buffer whose length is in argument `lengthArgument`.
        case buffer(lengthArgument: Int)
        /// A socket address whose length is in argument `lengthArgument`.
        case sockaddr(lengthArgument: Int)
        /// At exit: what the call wrote into a buffer, as many bytes as it returned.
        case returned
        /// At exit: a NUL-terminated string the call wrote.
        case returnedString
        /// At exit: a struct the call filled, of this many bytes.
        case fixed(bytes: Int)
        /// At exit: a socket address the call filled, its length in the int that argument
        /// `lengthArgument` points to.
        case sockaddrLengthPointer(lengthArgument: Int)
        /// A string when argument 0 is one of `count` options from `first` (prctl's name).
        case stringForOptions(first: Int, count: Int)
    }

    /// One entry per argument (at most six).
    public var arguments: [Capture]

    public init(arguments: [Capture]) {
        self.arguments = arguments
    }

    /// Inputs the kernel declares without `const`, by syscall and argument name.
    static let mutableInputs: [String: Set<String>] = [
        "mount": ["dev_name", "dir_name", "type"], "umount": ["name"], "utime": ["filename"],
        "utimes": ["filename"], "sethostname": ["name"], "setdomainname": ["name"],
        "sendto": ["buff"], "send": ["buff"], "setsockopt": ["optval"],
    ]
    /// Syscalls whose `struct sockaddr *` is an input.
    static let sockaddrInputs: Set<String> = ["bind", "connect", "sendto"]

    /// What a call writes, by syscall and argument name: read at exit. The x86_64 layouts of
    /// the structs: struct stat is 144 bytes, struct new_utsname 390, a pipe's two fds 8.
    static let outputs: [String: [String: Capture]] = [
        "read": ["buf": .returned], "pread64": ["buf": .returned], "readlink": ["buf": .returned],
        "readlinkat": ["buf": .returned], "getcwd": ["buf": .returnedString],
        "recvfrom": ["ubuf": .returned, "addr": .sockaddrLengthPointer(lengthArgument: 5), "addr_len": .fixed(bytes: 4)],
        "recv": ["ubuf": .returned],
        "stat": ["statbuf": .fixed(bytes: 144)], "fstat": ["statbuf": .fixed(bytes: 144)],
        "lstat": ["statbuf": .fixed(bytes: 144)], "newfstatat": ["statbuf": .fixed(bytes: 144)],
        "pipe": ["fildes": .fixed(bytes: 8)], "pipe2": ["fildes": .fixed(bytes: 8)],
        "uname": ["name": .fixed(bytes: 390)], "prlimit64": ["old_rlim": .fixed(bytes: 16)],
        "accept": ["upeer_sockaddr": .sockaddrLengthPointer(lengthArgument: 2), "upeer_addrlen": .fixed(bytes: 4)],
        "accept4": ["upeer_sockaddr": .sockaddrLengthPointer(lengthArgument: 2), "upeer_addrlen": .fixed(bytes: 4)],
        "getsockname": ["usockaddr": .sockaddrLengthPointer(lengthArgument: 2), "usockaddr_len": .fixed(bytes: 4)],
        "getpeername": ["usockaddr": .sockaddrLengthPointer(lengthArgument: 2), "usockaddr_len": .fixed(bytes: 4)],
        // PR_SET_NAME (15)'s name, and the name PR_GET_NAME (16) wrote.
        "prctl": ["arg2": .stringForOptions(first: 15, count: 2)],
    ]

    /// Strings passed in a number-typed argument for some options, by syscall and argument.
    static let optionStrings: [String: [String: Capture]] = [
        "prctl": ["arg2": .stringForOptions(first: 15, count: 1)],
    ]

    /// Outputs whose layout a 32-bit process does not share (its struct stat differs).
    static let x86_64LayoutOnly: Set<String> = ["stat", "fstat", "lstat", "newfstatat"]

    /// The plan at exit: the inputs again (memory not yet paged in at entry has been touched by
    /// the kernel since), and what the call wrote, where the 32-bit layout is the same.
    public static func exitPlan(for signature: SyscallSignature, compat: Bool = false) -> CapturePlan {
        var plan = plan(for: signature)
        guard !(compat && x86_64LayoutOnly.contains(signature.name)), let written = outputs[signature.name]
        else { return plan }
        for (index, name) in signature.argumentNames.enumerated() where index < plan.arguments.count {
            if let capture = written[name] { plan.arguments[index] = capture }
        }
        return plan
    }

    /// The plan for a syscall, from its arguments' names and C types.
    public static func plan(for signature: SyscallSignature) -> CapturePlan {
        let types = signature.argumentTypes.map(normalized)
        let names = signature.argumentNames
        let captures = types.indices.map { index -> Capture in
            let type = types[index]
            let lengthFollows = index + 1 < types.count
                && isLength(name: names[index + 1], type: types[index + 1])
            let isMutableInput = mutableInputs[signature.name]?.contains(names[index]) ?? false
            if type.hasPrefix("struct sockaddr *") {
                return sockaddrInputs.contains(signature.name) && lengthFollows
                    ? .sockaddr(lengthArgument: index + 1) : .none
            }
            let isInput = type == "const char *" || type == "const void *" || isMutableInput
            guard isInput, type.hasSuffix("char *") || type.hasSuffix("void *") else { return .none }
            if lengthFollows {
                return .buffer(lengthArgument: index + 1)
            }
            return type.contains("void") ? .none : .string
        }
        var plan = CapturePlan(arguments: captures)
        for (index, name) in names.enumerated() {
            if let capture = optionStrings[signature.name]?[name] { plan.arguments[index] = capture }
        }
        return plan
    }

    var raw: syscalls_capture_plan {
        var plan = syscalls_capture_plan()
        withUnsafeMutableBytes(of: &plan.kind) { kinds in
            withUnsafeMutableBytes(of: &plan.length_arg) { lengths in
                withUnsafeMutableBytes(of: &plan.fixed_length) { fixed in
                    for (index, capture) in arguments.prefix(Int(SYSCALLS_ARGS)).enumerated() {
                        let (kind, length, bytes) = Self.encoded(capture)
                        kinds[index] = UInt8(kind.rawValue)
                        lengths[index] = UInt8(length)
                        fixed.storeBytes(of: UInt16(bytes), toByteOffset: index * 2, as: UInt16.self)
                    }
                }
            }
        }
        return plan
    }

    /// A capture as the BPF program's plan holds it: its kind, length argument, fixed length.
    private static func encoded(_ capture: Capture) -> (syscalls_capture_kind, Int, Int) {
        switch capture {
        case .none: return (SYSCALLS_CAPTURE_NONE, 0, 0)
        case .string: return (SYSCALLS_CAPTURE_STRING, 0, 0)
        case .buffer(let length): return (SYSCALLS_CAPTURE_BUFFER, length, 0)
        case .sockaddr(let length): return (SYSCALLS_CAPTURE_SOCKADDR, length, 0)
        case .returned: return (SYSCALLS_CAPTURE_BUFFER_RETURN, 0, 0)
        case .returnedString: return (SYSCALLS_CAPTURE_STRING_RETURN, 0, 0)
        case .fixed(let bytes): return (SYSCALLS_CAPTURE_FIXED, 0, min(bytes, Int(SYSCALLS_BUFFER_LIMIT_MAX)))
        case .sockaddrLengthPointer(let length): return (SYSCALLS_CAPTURE_SOCKADDR_LENGTH_POINTER, length, 0)
        case .stringForOptions(let first, let count): return (SYSCALLS_CAPTURE_STRING_FOR_OPTIONS, count, first)
        }
    }

    /// The type with runs of spaces folded to one.
    private static func normalized(_ type: String) -> String {
        type.split(separator: " ").joined(separator: " ")
    }

    /// An argument that holds the length of the one before it (`count`, `len`, `addrlen`...).
    private static func isLength(name: String, type: String) -> Bool {
        guard !type.contains("*"), !type.hasPrefix("struct") else { return false }
        return type == "size_t" || name == "count" || name == "size" || name.hasSuffix("len")
    }
}
