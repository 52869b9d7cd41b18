/// Renders captured bytes as text the way strace does: printable ASCII as it is, a quote and a
/// backslash escaped, \t \n \v \f \r by name, anything else in octal (three digits when a
/// digit follows, so that `\0205` is byte 0x10 then '5'). The result is safe to put anywhere
/// (a terminal, a JSON string) and reads back to the same bytes.
enum ByteEscaping {
    static func escape(_ bytes: some Sequence<UInt8>, truncated: Bool) -> String {
        var text = ""
        var iterator = bytes.makeIterator()
        var next = iterator.next()
        while let byte = next {
            next = iterator.next()
            switch byte {
            case UInt8(ascii: "\\"): text += "\\\\"
            case UInt8(ascii: "\""): text += "\\\""
            case 0x09: text += "\\t"
            case 0x0A: text += "\\n"
            case 0x0B: text += "\\v"
            case 0x0C: text += "\\f"
            case 0x0D: text += "\\r"
            case 0x20...0x7E: text.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                let octal = String(byte, radix: 8)
                let followedByDigit = next.map { (0x30...0x37).contains($0) } ?? false
                text += "\\" + (followedByDigit ? String(repeating: "0", count: 3 - octal.count) + octal : octal)
            }
        }
        return truncated ? text + "..." : text
    }
}
