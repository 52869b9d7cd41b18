/// Structs a call filled, rendered as strace renders them by default (the leading fields, then
/// `...`). x86_64 layouts.
enum StructDecoding {
    /// The rendering of `bytes` written by `syscall`, or nil when it is not one known here.
    static func describe(_ syscall: String, _ bytes: [UInt8]) -> String? {
        switch syscall {
        case "stat", "fstat", "lstat", "newfstatat": return stat(bytes)
        case "pipe", "pipe2": return fileDescriptorPair(bytes)
        case "uname": return utsname(bytes)
        case "prlimit64": return resourceLimit(bytes)
        default: return nil
        }
    }

    /// `{st_mode=S_IFREG|0644, st_size=2772, ...}`; devices show st_rdev instead of the size.
    static func stat(_ bytes: [UInt8]) -> String? {
        guard bytes.count >= 56 else { return nil }
        let mode = load(UInt32.self, bytes, at: 24)
        let type = mode & 0o170000
        var text = "{st_mode=" + fileMode(mode)
        if type == 0o020000 || type == 0o060000 {  // S_IFCHR, S_IFBLK
            let device = load(UInt64.self, bytes, at: 40)
            let major = ((device >> 8) & 0xFFF) | ((device >> 32) & ~0xFFF)
            let minor = (device & 0xFF) | ((device >> 12) & ~0xFF)
            text += ", st_rdev=makedev(0x\(String(major, radix: 16)), 0x\(String(minor, radix: 16)))"
        } else {
            text += ", st_size=\(Int64(bitPattern: load(UInt64.self, bytes, at: 48)))"
        }
        return text + ", ...}"
    }

    /// A file's type and permissions: `S_IFREG|S_ISUID|0755`.
    static func fileMode(_ mode: UInt32) -> String {
        let types: [UInt32: String] = [
            0o140000: "S_IFSOCK", 0o120000: "S_IFLNK", 0o100000: "S_IFREG", 0o060000: "S_IFBLK",
            0o040000: "S_IFDIR", 0o020000: "S_IFCHR", 0o010000: "S_IFIFO",
        ]
        var parts = [types[mode & 0o170000] ?? "0\(String(mode & 0o170000, radix: 8))"]
        if mode & 0o4000 != 0 { parts.append("S_ISUID") }
        if mode & 0o2000 != 0 { parts.append("S_ISGID") }
        if mode & 0o1000 != 0 { parts.append("S_ISVTX") }
        let permissions = String(mode & 0o777, radix: 8)
        parts.append(String(repeating: "0", count: max(0, 4 - permissions.count)) + permissions)
        return parts.joined(separator: "|")
    }

    /// `[3, 4]`.
    static func fileDescriptorPair(_ bytes: [UInt8]) -> String? {
        guard bytes.count >= 8 else { return nil }
        return "[\(Int32(bitPattern: load(UInt32.self, bytes, at: 0))), \(Int32(bitPattern: load(UInt32.self, bytes, at: 4)))]"
    }

    /// `{sysname="Linux", nodename="debian", ...}`.
    static func utsname(_ bytes: [UInt8]) -> String? {
        guard bytes.count >= 130 else { return nil }
        func field(_ index: Int) -> String {
            let slice = bytes[(index * 65)..<(index * 65 + 65)]
            return ByteEscaping.escape(Array(slice.prefix { $0 != 0 }), truncated: false)
        }
        return "{sysname=\"\(field(0))\", nodename=\"\(field(1))\", ...}"
    }

    /// `{rlim_cur=1024, rlim_max=4096}`, with RLIM64_INFINITY by name.
    static func resourceLimit(_ bytes: [UInt8]) -> String? {
        guard bytes.count >= 16 else { return nil }
        func limit(_ value: UInt64) -> String { value == .max ? "RLIM64_INFINITY" : "\(value)" }
        return "{rlim_cur=\(limit(load(UInt64.self, bytes, at: 0))), rlim_max=\(limit(load(UInt64.self, bytes, at: 8)))}"
    }

    private static func load<T: FixedWidthInteger>(_ type: T.Type, _ bytes: [UInt8], at offset: Int) -> T {
        bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: offset, as: T.self) }
    }
}
