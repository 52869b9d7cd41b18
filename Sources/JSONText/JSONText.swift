/// Appends JSON text to a byte buffer without building intermediate objects: the hot path of
/// every record tawon writes.
public struct JSONText: Sendable {
    public private(set) var bytes: [UInt8] = []

    public init(capacity: Int = 256) {
        bytes.reserveCapacity(capacity)
    }

    /// The text as a String.
    public var string: String { String(decoding: bytes, as: UTF8.self) }

    /// Empties the text, keeping its storage.
    public mutating func removeAll() {
        bytes.removeAll(keepingCapacity: true)
    }

    /// Hands over the bytes written so far and starts again on storage of the same size.
    public mutating func take() -> [UInt8] {
        let taken = bytes
        bytes = []
        bytes.reserveCapacity(taken.capacity)
        return taken
    }

    /// Takes back storage handed out by `take()` once its bytes have been written: emptied,
    /// it holds the next text without a new allocation.
    public mutating func reuse(_ storage: inout [UInt8]) {
        guard bytes.isEmpty, storage.capacity >= bytes.capacity else { return }
        storage.removeAll(keepingCapacity: true)
        swap(&bytes, &storage)
    }

    mutating func dropLast() {
        bytes.removeLast()
    }

    mutating func appendByte(_ byte: UInt8) {
        bytes.append(byte)
    }

    mutating func appendBytes(_ raw: UnsafeRawBufferPointer) {
        bytes.append(contentsOf: raw)
    }

    public mutating func raw(_ text: StaticString) {
        text.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }

    /// Appends already-valid JSON (e.g. an object a task emitted).
    public mutating func rawJSON(_ text: String) {
        bytes.append(contentsOf: text.utf8)
    }

    /// Appends already-valid JSON bytes (e.g. a fragment rendered earlier).
    public mutating func rawJSON(_ json: JSONText) {
        bytes.append(contentsOf: json.bytes)
    }

    /// Appends already-valid JSON bytes lent for the call.
    public mutating func rawJSON(bytes json: UnsafeRawBufferPointer) {
        bytes.append(contentsOf: json)
    }

    /// Appends a decimal number. Concrete, not generic: across modules a generic integer print
    /// goes through dynamic casts, the hottest cost of a record.
    public mutating func number(_ value: UInt64) {
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)  // 24 bytes: room for 20 digits
        var count = 0
        var rest = value
        withUnsafeMutableBytes(of: &digits) { buffer in
            repeat {
                buffer[23 - count] = UInt8(ascii: "0") + UInt8(rest % 10)
                rest /= 10
                count += 1
            } while rest != 0
            bytes.append(contentsOf: buffer[(24 - count)...])
        }
    }

    public mutating func number(_ value: Int64) {
        if value < 0 { bytes.append(UInt8(ascii: "-")) }
        number(value.magnitude)
    }

    public mutating func number(_ value: UInt32) { number(UInt64(value)) }
    public mutating func number(_ value: Int) { number(Int64(value)) }

    public mutating func bool(_ value: Bool) {
        value ? raw("true") : raw("false")
    }

    /// Appends `text` as a quoted JSON string, escaping what RFC 8259 requires.
    public mutating func string(_ text: String) {
        var text = text
        text.withUTF8 { string(utf8: UnsafeRawBufferPointer($0)) }
    }

    /// Appends UTF-8 bytes (e.g. a C string the host lent) as a quoted JSON string, escaped.
    public mutating func string(utf8: UnsafeRawBufferPointer) {
        bytes.append(UInt8(ascii: "\""))
        // Most text needs no escaping: copy it in one go.
        if !utf8.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) {
            bytes.append(contentsOf: utf8)
        } else {
            for byte in utf8 { escape(byte) }
        }
        bytes.append(UInt8(ascii: "\""))
    }

    private mutating func escape(_ byte: UInt8) {
        switch byte {
        case UInt8(ascii: "\""): raw("\\\"")
        case UInt8(ascii: "\\"): raw("\\\\")
        case 0x0A: raw("\\n")
        case 0x0D: raw("\\r")
        case 0x09: raw("\\t")
        case 0..<0x20:
            raw("\\u00")
            bytes.append(Self.hexDigits[Int(byte >> 4)])
            bytes.append(Self.hexDigits[Int(byte & 0xF)])
        default: bytes.append(byte)
        }
    }

    /// Appends `"key":`.
    public mutating func key(_ name: String) {
        string(name)
        bytes.append(UInt8(ascii: ":"))
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)
}
