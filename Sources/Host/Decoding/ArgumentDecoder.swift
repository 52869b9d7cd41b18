import Foundation
import SyscallTable

/// Turns a syscall record's raw arguments into values for people: numbers as numbers, captured
/// memory as escaped text, flags and constants by name, pointers in hex.
public enum ArgumentDecoder {
    /// How one argument is rendered beyond its C type.
    enum Style {
        case address, openFlags, statusFlags, fileMode, directoryFD, atFlags, accessMode, protection, mapFlags
        case addressFamily, socketType, socketProtocol, socketLevel, socketOption, signal
        case whence, fcntlCommand, mlockallFlags, cloneFlags, ptraceRequest, prctlOption
        case prctlArgument, renameFlags, archPrctlCode, resource
    }

    /// Special renderings, by syscall name and argument name ("*": any syscall).
    static let styles: [String: [String: Style]] = [
        "*": ["dfd": .directoryFD, "olddfd": .directoryFD, "newdfd": .directoryFD, "mode": .fileMode],
        "open": ["flags": .openFlags], "openat": ["flags": .openFlags], "creat": [:],
        "mmap": ["addr": .address, "prot": .protection, "flags": .mapFlags],
        "mprotect": ["start": .address, "prot": .protection], "munmap": ["addr": .address],
        "mremap": ["addr": .address, "new_addr": .address], "brk": ["brk": .address],
        "madvise": ["start": .address], "mlock": ["start": .address], "munlock": ["start": .address],
        "msync": ["start": .address], "mincore": ["start": .address],
        "pkey_mprotect": ["prot": .protection],
        "socket": ["family": .addressFamily, "type": .socketType, "protocol": .socketProtocol],
        "socketpair": ["family": .addressFamily, "type": .socketType, "protocol": .socketProtocol],
        "setsockopt": ["level": .socketLevel, "optname": .socketOption],
        "getsockopt": ["level": .socketLevel, "optname": .socketOption],
        "access": ["mode": .accessMode], "faccessat": ["mode": .accessMode],
        "faccessat2": ["mode": .accessMode, "flags": .atFlags],
        "newfstatat": ["flag": .atFlags], "unlinkat": ["flag": .atFlags], "fchownat": ["flag": .atFlags],
        "linkat": ["flags": .atFlags], "statx": ["flags": .atFlags], "utimensat": ["flags": .atFlags],
        "execveat": ["flags": .atFlags], "fchmodat2": ["flags": .atFlags],
        "kill": ["sig": .signal], "tkill": ["sig": .signal], "tgkill": ["sig": .signal],
        "rt_sigaction": ["sig": .signal], "rt_sigqueueinfo": ["sig": .signal],
        "pidfd_send_signal": ["sig": .signal],
        "lseek": ["whence": .whence], "fcntl": ["cmd": .fcntlCommand],
        "mlockall": ["flags": .mlockallFlags], "clone": ["clone_flags": .cloneFlags],
        "unshare": ["unshare_flags": .cloneFlags], "setns": ["flags": .cloneFlags],
        "ptrace": ["request": .ptraceRequest], "prctl": ["option": .prctlOption, "arg2": .prctlArgument, "arg3": .prctlArgument],
        "renameat2": ["flags": .renameFlags], "umask": ["mask": .fileMode],
        "arch_prctl": ["option": .archPrctlCode], "prlimit64": ["resource": .resource],
        "getrlimit": ["resource": .resource], "setrlimit": ["resource": .resource],
        "pipe2": ["flags": .statusFlags], "dup3": ["flags": .statusFlags],
        "eventfd2": ["flags": .statusFlags], "inotify_init1": ["flags": .statusFlags],
        "accept4": ["flags": .socketType],
    ]

    /// Arguments that hold a file descriptor, whatever their declared type.
    static let fileDescriptorNames: Set<String> = ["fd", "oldfd", "newfd", "fildes", "ufd", "in_fd", "out_fd", "epfd"]

    /// Decodes every argument of `record` described by `signature`.
    public static func decode(
        _ record: SyscallRecord, signature: SyscallSignature
    ) -> [DeliverableEvent.Argument] {
        // A 32-bit call's arguments are rendered as those of the x86_64 call they mean the same as.
        var signature = signature
        if record.isCompat, let form = SyscallTable.x86_64Form(ofI386: signature.name) {
            signature = SyscallSignature(
                number: signature.number, name: form, argumentNames: signature.argumentNames,
                argumentTypes: signature.argumentTypes)
        }
        return signature.argumentNames.indices.compactMap { index in
            let raw = record.arguments[index]
            let name = signature.argumentNames[index]
            guard !isUnused(name, of: signature, in: record) else { return nil }
            let type = signature.argumentTypes[index]
            return DeliverableEvent.Argument(
                name: name, type: type, raw: raw,
                value: value(index: index, name: name, type: type, record: record, signature: signature))
        }
    }

    /// fcntl commands that take no argument: F_GETFD, F_GETFL, F_GETOWN, F_GETSIG, F_GETLEASE,
    /// F_GETPIPE_SZ, F_GET_SEALS.
    static let fcntlWithoutArgument: Set<UInt64> = [1, 3, 9, 11, 1025, 1032, 1034]

    /// An argument the call ignores, which strace leaves out: open's and openat's `mode`
    /// without O_CREAT or O_TMPFILE, fcntl's `arg` for a command that reads none.
    static func isUnused(_ name: String, of signature: SyscallSignature, in record: SyscallRecord) -> Bool {
        if name == "arg", signature.name == "fcntl", let command = signature.argumentNames.firstIndex(of: "cmd") {
            return fcntlWithoutArgument.contains(record.arguments[command] & 0xFFFF_FFFF)
        }
        // PR_SET_NAME and PR_GET_NAME read or write one name, in arg2.
        if signature.name == "prctl", ["arg3", "arg4", "arg5"].contains(name) {
            return [15, 16].contains(record.arguments[0] & 0xFFFF_FFFF)  // PR_SET_NAME, PR_GET_NAME
        }
        guard name == "mode", signature.name == "open" || signature.name == "openat",
            let flags = signature.argumentNames.firstIndex(of: "flags").map({ record.arguments[$0] })
        else { return false }
        return flags & UInt64(O_CREAT) == 0 && flags & 0o20_200_000 != 0o20_200_000  // O_TMPFILE
    }

    static func value(
        index: Int, name: String, type: String, record: SyscallRecord, signature: SyscallSignature
    ) -> DeliverableEvent.Argument.Value {
        let raw = record.arguments[index]
        if raw == 0 && type.contains("*") { return .text("NULL", truncated: false) }
        if let capture = record.capture(of: index), !capture.fault {
            switch capture.kind {
            case .string, .buffer:
                return .text(ByteEscaping.escape(capture.bytes, truncated: capture.truncated), truncated: capture.truncated)
            case .strings:
                let items = capture.bytes.split(separator: 0, omittingEmptySubsequences: false).dropLast()
                let listed = items.map { "\"" + ByteEscaping.escape($0, truncated: false) + "\"" }.joined(separator: ", ")
                return .text("[" + listed + (capture.truncated ? ", ..." : "") + "]", truncated: capture.truncated)
            case .sockaddr:
                // Nothing filled in (a connected socket's recvfrom): the pointer, as strace shows it.
                guard !capture.bytes.isEmpty else { return .text(raw == 0 ? "NULL" : "0x" + String(raw, radix: 16), truncated: false) }
                return .text(SockaddrDecoding.describe(capture.bytes), truncated: capture.truncated)
            case .structure where type == "int *" && capture.bytes.count == 4:  // a length the call wrote back
                let length = capture.bytes.reversed().reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
                return .text("[\(Int32(bitPattern: length))]", truncated: false)
            case .structure:
                let text = StructDecoding.describe(signature.name, capture.bytes)
                    ?? ByteEscaping.escape(capture.bytes, truncated: capture.truncated)
                return .text(text, truncated: capture.truncated)
            }
        }
        let style = styles[signature.name]?[name] ?? styles["*"]?[name]
        // No flag set is a number, as strace shows it: kill(pid, 0), newfstatat(..., 0).
        if let style, let text = render(style, name: name, raw: raw, record: record, signature: signature), text != "0" {
            return .text(text, truncated: false)
        }
        if type.contains("*") {
            return .text(raw == 0 ? "NULL" : "0x" + String(raw, radix: 16), truncated: false)
        }
        if fileDescriptorNames.contains(name) {  // the kernel says unsigned; strace shows -1
            return .signed(Int64(Int32(truncatingIfNeeded: raw)))
        }
        return integer(raw, type: type, compat: record.isCompat)
    }

    /// Numbers by the width and signedness of their C type.
    static func integer(_ raw: UInt64, type: String, compat: Bool) -> DeliverableEvent.Argument.Value {
        let words = type.replacingOccurrences(of: "const ", with: "").split(separator: " ")
        let unsigned = words.contains { $0 == "unsigned" || $0.hasPrefix("u") || $0 == "size_t" || $0 == "umode_t" }
        let wide = words.contains { $0 == "long" || $0.hasSuffix("64") || $0 == "size_t" || $0 == "loff_t" || $0 == "off_t" }
            && !compat
        switch (unsigned, wide) {
        case (true, true): return .unsigned(raw)
        case (true, false): return .unsigned(UInt64(UInt32(truncatingIfNeeded: raw)))
        case (false, true): return .signed(Int64(bitPattern: raw))
        case (false, false): return .signed(Int64(Int32(truncatingIfNeeded: raw)))
        }
    }

    static func render(
        _ style: Style, name: String, raw: UInt64, record: SyscallRecord, signature: SyscallSignature
    ) -> String? {
        let value = Int(Int32(truncatingIfNeeded: raw))
        func argument(_ name: String) -> UInt64? {
            signature.argumentNames.firstIndex(of: name).map { record.arguments[$0] }
        }
        switch style {
        case .openFlags:
            let mode = SymbolTables.accessModes[Int(raw & 3)]!
            return SymbolTables.flags(raw & ~3, SymbolTables.openFlags, prefix: [mode])
        case .address: return raw == 0 ? "NULL" : "0x" + String(raw, radix: 16)
        case .statusFlags: return SymbolTables.flags(raw & 0xFFFF_FFFF, SymbolTables.openFlags)
        case .fileMode: return "0" + String(raw & 0o7777, radix: 8)
        case .directoryFD: return value == -100 ? "AT_FDCWD" : nil
        case .atFlags: return SymbolTables.flags(raw & 0xFFFF_FFFF, SymbolTables.atFlags)
        case .accessMode: return raw == 0 ? "F_OK" : SymbolTables.flags(raw, SymbolTables.accessChecks)
        case .protection: return raw == 0 ? "PROT_NONE" : SymbolTables.flags(raw, SymbolTables.protections)
        case .mapFlags:
            let type = SymbolTables.mapTypes[Int(raw & 0xF)]
            return SymbolTables.flags(raw & ~0xF, SymbolTables.mapFlags, prefix: type.map { [$0] } ?? [])
        case .addressFamily: return SymbolTables.addressFamilies[value]
        case .socketType:
            let base = SymbolTables.socketTypes[Int(raw & 0xF)] ?? "\(raw & 0xF)"
            return SymbolTables.flags(raw & ~0xF & 0xFFFF_FFFF, SymbolTables.socketTypeFlags, prefix: [base])
        case .socketProtocol:
            let family = Int(argument("family") ?? 0)
            return family == Int(AF_INET) || family == Int(AF_INET6) ? SymbolTables.ipProtocols[value] : nil
        case .socketLevel: return SymbolTables.socketLevels[value]
        case .socketOption:
            switch Int(argument("level") ?? 0) {
            case 1: return SymbolTables.socketOptions[value]
            case 0: return SymbolTables.ipOptions[value]
            case 6: return SymbolTables.tcpOptions[value]
            default: return nil
            }
        case .signal: return value == 0 ? "0" : SymbolTables.signals[value]
        case .whence: return SymbolTables.seekWhence[value]
        case .fcntlCommand: return SymbolTables.fcntlCommands[value]
        case .mlockallFlags: return SymbolTables.flags(raw, SymbolTables.mlockallFlags)
        case .cloneFlags:
            let signal = Int(raw & 0xFF)
            let named = SymbolTables.flags(raw & ~0xFF & 0xFFFF_FFFF, SymbolTables.cloneFlags)
            guard signal != 0 else { return named }
            let signalName = SymbolTables.signals[signal] ?? "\(signal)"
            return named == "0" ? signalName : named + "|" + signalName
        case .ptraceRequest: return SymbolTables.ptraceRequests[value]
        case .prctlOption: return SymbolTables.prctlOptions[value]
        case .prctlArgument: return prctlArgument(name: name, raw: raw, option: record.arguments[0])
        case .renameFlags: return SymbolTables.flags(raw, SymbolTables.renameFlags)
        case .archPrctlCode: return SymbolTables.archPrctlCodes[value]
        case .resource: return SymbolTables.resources[value]
        }
    }

    /// prctl's capability arguments by name: PR_CAPBSET_READ/DROP take one as arg2,
    /// PR_CAP_AMBIENT takes an operation as arg2 and a capability as arg3.
    static func prctlArgument(name: String, raw: UInt64, option: UInt64) -> String? {
        switch (option, name) {
        case (23, "arg2"), (24, "arg2"), (47, "arg3"): return CapabilityNames.name(of: Int(raw))
        case (47, "arg2"): return SymbolTables.ambientOperations[Int(raw)]
        default: return nil
        }
    }
}
