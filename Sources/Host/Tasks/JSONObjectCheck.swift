/// A single-pass check that bytes are exactly one well-formed JSON object (RFC 8259), without
/// building anything: cheap enough for every record a task emits.
enum JSONObjectCheck {
    static func isObject(_ bytes: UnsafeRawBufferPointer) -> Bool {
        var scanner = Scanner(bytes: bytes)
        scanner.skipSpace()
        guard scanner.peek == UInt8(ascii: "{"), scanner.value(depth: 0) else { return false }
        scanner.skipSpace()
        return scanner.index == bytes.count
    }

    private struct Scanner {
        let bytes: UnsafeRawBufferPointer
        var index = 0
        static let maximumDepth = 512

        var peek: UInt8? { index < bytes.count ? bytes[index] : nil }

        mutating func skipSpace() {
            while let byte = peek, byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 {
                index += 1
            }
        }

        mutating func consume(_ byte: UInt8) -> Bool {
            guard peek == byte else { return false }
            index += 1
            return true
        }

        mutating func value(depth: Int) -> Bool {
            guard depth < Self.maximumDepth, let byte = peek else { return false }
            switch byte {
            case UInt8(ascii: "{"): return container(close: UInt8(ascii: "}"), keyed: true, depth: depth)
            case UInt8(ascii: "["): return container(close: UInt8(ascii: "]"), keyed: false, depth: depth)
            case UInt8(ascii: "\""): return string()
            case UInt8(ascii: "t"): return literal("true")
            case UInt8(ascii: "f"): return literal("false")
            case UInt8(ascii: "n"): return literal("null")
            default: return number()
            }
        }

        mutating func container(close: UInt8, keyed: Bool, depth: Int) -> Bool {
            index += 1
            skipSpace()
            if consume(close) { return true }
            while true {
                skipSpace()
                if keyed {
                    guard peek == UInt8(ascii: "\""), string() else { return false }
                    skipSpace()
                    guard consume(UInt8(ascii: ":")) else { return false }
                    skipSpace()
                }
                guard value(depth: depth + 1) else { return false }
                skipSpace()
                if consume(close) { return true }
                guard consume(UInt8(ascii: ",")) else { return false }
            }
        }

        mutating func string() -> Bool {
            index += 1
            let count = bytes.count
            while index < count {
                let byte = bytes[index]
                index += 1
                if byte == UInt8(ascii: "\"") { return true }
                if byte < 0x20 { return false }
                if byte == UInt8(ascii: "\\") && !escape() { return false }
            }
            return false
        }

        /// After a backslash: one of \" \\ / b f n r t, or u and four hex digits.
        mutating func escape() -> Bool {
            guard let escaped = peek else { return false }
            index += 1
            if escaped == UInt8(ascii: "u") {
                for _ in 0..<4 {
                    guard let hex = peek, isHex(hex) else { return false }
                    index += 1
                }
                return true
            }
            return "\"\\/bfnrt".utf8.contains(escaped)
        }

        mutating func literal(_ word: StaticString) -> Bool {
            for expected in UnsafeRawBufferPointer(start: word.utf8Start, count: word.utf8CodeUnitCount) {
                guard consume(expected) else { return false }
            }
            return true
        }

        mutating func number() -> Bool {
            _ = consume(UInt8(ascii: "-"))
            guard digits() else { return false }
            if consume(UInt8(ascii: ".")), !digits() { return false }
            if consume(UInt8(ascii: "e")) || consume(UInt8(ascii: "E")) {
                if !consume(UInt8(ascii: "+")) { _ = consume(UInt8(ascii: "-")) }
                return digits()
            }
            return true
        }

        mutating func digits() -> Bool {
            let start = index
            while let byte = peek, byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") { index += 1 }
            return index > start
        }

        func isHex(_ byte: UInt8) -> Bool {
            (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
                || (byte | 0x20 >= UInt8(ascii: "a") && byte | 0x20 <= UInt8(ascii: "f"))
        }
    }
}
