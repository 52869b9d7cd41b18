import Foundation

/// Renders a captured `struct sockaddr` as strace does:
/// `{sa_family=AF_INET, sin_port=htons(9), sin_addr=inet_addr("127.0.0.1")}`.
enum SockaddrDecoding {
    static func describe(_ bytes: [UInt8]) -> String {
        guard bytes.count >= 2 else { return "{}" }
        let family = Int(bytes[0]) | Int(bytes[1]) << 8
        let familyName = SymbolTables.addressFamilies[family] ?? "\(family)"
        func port() -> Int { Int(bytes[2]) << 8 | Int(bytes[3]) }
        func word(_ offset: Int) -> UInt32 { bytes[offset..<offset + 4].reversed().reduce(0) { $0 << 8 | UInt32($1) } }
        switch family {
        case Int(AF_INET) where bytes.count >= 8:
            return "{sa_family=AF_INET, sin_port=htons(\(port())), "
                + "sin_addr=inet_addr(\"\(bytes[4]).\(bytes[5]).\(bytes[6]).\(bytes[7])\")}"
        case Int(AF_INET6) where bytes.count >= 28:
            let flowinfo = bytes[4..<8].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }  // network order
            return "{sa_family=AF_INET6, sin6_port=htons(\(port())), sin6_flowinfo=htonl(\(flowinfo)), "
                + "inet_pton(AF_INET6, \"\(ipv6(Array(bytes[8..<24])))\", &sin6_addr), sin6_scope_id=\(word(24))}"
        case Int(AF_UNIX):
            let path = bytes.dropFirst(2)
            if path.isEmpty { return "{sa_family=AF_UNIX}" }
            if path.first == 0 {  // abstract socket: leading NUL, not terminated
                return "{sa_family=AF_UNIX, sun_path=@\"\(ByteEscaping.escape(path.dropFirst(), truncated: false))\"}"
            }
            return "{sa_family=AF_UNIX, sun_path=\"\(ByteEscaping.escape(path.prefix { $0 != 0 }, truncated: false))\"}"
        case Int(AF_NETLINK) where bytes.count >= 12:
            return "{sa_family=AF_NETLINK, nl_pid=\(word(4)), nl_groups=\(String(format: "%08x", word(8)))}"
        case Int(AF_PACKET) where bytes.count >= 8:
            return "{sa_family=AF_PACKET, sll_protocol=htons(\(port())), sll_ifindex=\(word(4))}"
        default:
            return "{sa_family=\(familyName)}"
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
