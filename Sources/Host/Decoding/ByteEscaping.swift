/// Renders captured bytes as text the way strace does: printable ASCII as it is, common control
/// characters as \n \t \r, a backslash doubled, anything else as \xNN. The result is safe to put
/// anywhere (a terminal, a JSON string) and unambiguous.
enum ByteEscaping {
    static func escape(_ bytes: some Sequence<UInt8>, truncated: Bool) -> String {
        var text = ""
        for byte in bytes {
            switch byte {
            case UInt8(ascii: "\\"): text += "\\\\"
            case 0x0A: text += "\\n"
            case 0x09: text += "\\t"
            case 0x0D: text += "\\r"
            case 0x20...0x7E: text.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                let digits = String(byte, radix: 16)
                text += "\\x" + (digits.count == 1 ? "0" + digits : digits)
            }
        }
        return truncated ? text + "..." : text
    }
}
