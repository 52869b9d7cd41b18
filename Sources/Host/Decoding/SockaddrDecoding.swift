import Foundation

/// Renders a captured `struct sockaddr` as strace would summarize it.
enum SockaddrDecoding {
    static func describe(_ bytes: [UInt8]) -> String {
        guard bytes.count >= 2 else { return "{}" }
        let family = Int(bytes[0]) | Int(bytes[1]) << 8
        switch family {
        case Int(AF_INET) where bytes.count >= 8:
            let port = Int(bytes[2]) << 8 | Int(bytes[3])
            return "\(bytes[4]).\(bytes[5]).\(bytes[6]).\(bytes[7]):\(port)"
        case Int(AF_INET6) where bytes.count >= 24:
            let port = Int(bytes[2]) << 8 | Int(bytes[3])
            return "[\(ipv6(Array(bytes[8..<24])))]:\(port)"
        case Int(AF_UNIX):
            let path = bytes.dropFirst(2)
            if path.first == 0 {  // abstract socket: leading NUL, not terminated
                return "@" + ByteEscaping.escape(path.dropFirst(), truncated: false)
            }
            return ByteEscaping.escape(path.prefix { $0 != 0 }, truncated: false)
        case Int(AF_NETLINK) where bytes.count >= 12:
            let pid = bytes[4..<8].reversed().reduce(0) { $0 << 8 | UInt32($1) }
            return "netlink pid=\(pid)"
        case Int(AF_PACKET) where bytes.count >= 8:
            let protocolNumber = Int(bytes[2]) << 8 | Int(bytes[3])
            let index = bytes[4..<8].reversed().reduce(0) { $0 << 8 | UInt32($1) }
            return "packet protocol=0x\(String(protocolNumber, radix: 16)) ifindex=\(index)"
        default:
            return "\(SymbolTables.addressFamilies[family] ?? "family \(family)")"
        }
    }

    private static func ipv6(_ bytes: [UInt8]) -> String {
        var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        var address = in6_addr()
        withUnsafeMutableBytes(of: &address) { $0.copyBytes(from: bytes) }
        guard inet_ntop(AF_INET6, &address, &text, socklen_t(text.count)) != nil else { return "?" }
        return String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
