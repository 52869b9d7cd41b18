/// A syscall's number, name, and its arguments' names and C types.
public struct SyscallSignature: Sendable, Equatable {
    public let number: Int
    public let name: String
    public let argumentNames: [String]
    public let argumentTypes: [String]

    init(_ number: Int, _ name: String, _ argumentNames: [String], _ argumentTypes: [String]) {
        self.init(number: number, name: name, argumentNames: argumentNames, argumentTypes: argumentTypes)
    }

    /// A signature with other argument names and types, as a task registered them.
    public init(number: Int, name: String, argumentNames: [String], argumentTypes: [String]) {
        self.number = number
        self.name = name
        self.argumentNames = argumentNames
        self.argumentTypes = argumentTypes
    }
}

/// The syscall tables of both ABIs a process can call an x86_64 kernel with.
public enum SyscallTable {
    /// The calling convention of the task making the call.
    public enum ABI: Sendable {
        case x86_64
        /// A 32-bit task (int 0x80 / compat entry): numbers are i386 numbers.
        case i386
    }

    /// Every syscall of an ABI, ordered by number.
    public static func all(_ abi: ABI) -> [SyscallSignature] {
        abi == .x86_64 ? x86_64Signatures : i386Calls
    }

    /// Calls a 32-bit process can make only through `socketcall` or `ipc`. The kernel program
    /// reports them under these numbers, after the i386 table (bpf/syscalls.h keeps the same).
    public static let i386MultiplexedOnly: [SyscallSignature] = [
        .init(500, "accept", ["fd", "upeer_sockaddr", "upeer_addrlen"], ["int", "struct sockaddr *", "int *"]),
        .init(501, "send", ["fd", "buff", "len", "flags"], ["int", "void *", "size_t", "unsigned int"]),
        .init(502, "recv", ["fd", "ubuf", "size", "flags"], ["int", "void *", "size_t", "unsigned int"]),
        .init(503, "semop", ["semid", "tsops", "nsops"], ["int", "struct sembuf *", "unsigned int"]),
        .init(504, "semtimedop", ["semid", "tsops", "nsops", "timeout"],
              ["int", "struct sembuf *", "unsigned int", "const struct old_timespec32 *"]),
    ]

    private static let i386Calls = i386Signatures + i386MultiplexedOnly

    /// The signature for `number` in `abi`, if there is such a syscall.
    public static func signature(number: Int, abi: ABI = .x86_64) -> SyscallSignature? {
        let index = abi == .x86_64 ? x86_64ByNumber : i386ByNumber
        return number >= 0 && number < index.count ? index[number] : nil
    }

    /// The x86_64 signature named `name`, if any.
    public static func signature(named name: String) -> SyscallSignature? {
        x86_64ByName[name]
    }

    /// The highest x86_64 syscall number in the table.
    public static var highestNumber: Int { x86_64Signatures.last?.number ?? 0 }

    private static let x86_64ByNumber = denseIndex(x86_64Signatures)
    private static let i386ByNumber = denseIndex(i386Calls)
    private static let x86_64ByName = Dictionary(
        x86_64Signatures.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })

    private static func denseIndex(_ signatures: [SyscallSignature]) -> [SyscallSignature?] {
        var index = [SyscallSignature?](repeating: nil, count: (signatures.last?.number ?? 0) + 1)
        for signature in signatures { index[signature.number] = signature }
        return index
    }
}
