import CTawonBPF
import SyscallTable

/// Which arguments of a syscall carry user memory worth capturing at sys_enter, derived from
/// the argument types in the syscall table. Only inputs: at entry an output buffer (read's
/// `buf`) holds nothing yet.
public struct CapturePlan: Sendable, Equatable {
    public enum Capture: Sendable, Equatable {
        case none
        /// A NUL-terminated string (a path, a name).
        case string
        /// A buffer whose length is in argument `lengthArgument`.
        case buffer(lengthArgument: Int)
        /// A socket address whose length is in argument `lengthArgument`.
        case sockaddr(lengthArgument: Int)
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
        "sendto": ["buff"], "setsockopt": ["optval"],
    ]
    /// Syscalls whose `struct sockaddr *` is an input.
    static let sockaddrInputs: Set<String> = ["bind", "connect", "sendto"]

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
        return CapturePlan(arguments: captures)
    }

    var raw: syscalls_capture_plan {
        var plan = syscalls_capture_plan()
        withUnsafeMutableBytes(of: &plan.kind) { kinds in
            withUnsafeMutableBytes(of: &plan.length_arg) { lengths in
                for (index, capture) in arguments.prefix(Int(SYSCALLS_ARGS)).enumerated() {
                    switch capture {
                    case .none: kinds[index] = UInt8(SYSCALLS_CAPTURE_NONE.rawValue)
                    case .string: kinds[index] = UInt8(SYSCALLS_CAPTURE_STRING.rawValue)
                    case .buffer(let length):
                        kinds[index] = UInt8(SYSCALLS_CAPTURE_BUFFER.rawValue)
                        lengths[index] = UInt8(length)
                    case .sockaddr(let length):
                        kinds[index] = UInt8(SYSCALLS_CAPTURE_SOCKADDR.rawValue)
                        lengths[index] = UInt8(length)
                    }
                }
            }
        }
        return plan
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
