/// A single-pass check that bytes are exactly one well-formed JSON object (RFC 8259), without
/// building anything: cheap enough for every record a task emits.
enum JSONObjectCheck {
    static func isObject(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard let base = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return false }
        var scanner = Scanner(base: base, count: bytes.count)
        scanner.skipSpace()
        guard scanner.peek == UInt8(ascii: "{"), scanner.value(depth: 0) else { return false }
        scanner.skipSpace()
        return scanner.index == bytes.count
    }

    /// Reads through a raw pointer: this runs over every byte of every record, and bounds
    /// checks and optionals per byte cost more than the scan itself. `peek` past the end is 0,
    /// which no rule accepts.
    private struct Scanner {
        let base: UnsafePointer<UInt8>
        let count: Int
        var index = 0
        static let maximumDepth = 512

        init(base: UnsafePointer<UInt8>, count: Int) {
            self.base = base
            self.count = count
        }

        var peek: UInt8 { index < count ? base[index] : 0 }

        mutating func skipSpace() {
            while index < count {
                let byte = base[index]
                guard byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 else { return }
                index += 1
            }
        }

        mutating func consume(_ byte: UInt8) -> Bool {
            guard peek == byte else { return false }
            index += 1
            return true
        }

        mutating func value(depth: Int) -> Bool {
            guard depth < Self.maximumDepth else { return false }
            switch peek {
            case UInt8(ascii: "{"): return container(close: UInt8(ascii: "}"), keyed: true, depth: depth)
            case UInt8(ascii: "["): return container(close: UInt8(ascii: "]"), keyed: false, depth: depth)
            case UInt8(ascii: "\""): return string()
            case UInt8(ascii: "t"): return literal("true")
            case UInt8(ascii: "f"): return literal("false")
            case UInt8(ascii: "n"): return literal("null")
            case 0: return false
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
            while true {
                skipPlainContent()
                guard index < count else { return false }
                let byte = base[index]
                index += 1
                if byte == UInt8(ascii: "\"") { return true }
                if byte < 0x20 || !escape() { return false }  // else it was a backslash
            }
        }

        /// Moves to the string's next '"', '\\' or control character (or the end), eight bytes
        /// at a time: command lines and paths are long, and this is most of the scan.
        mutating func skipPlainContent() {
            let ones: UInt64 = 0x0101_0101_0101_0101
            while index + 8 <= count {
                let word = UnsafeRawPointer(base + index).loadUnaligned(as: UInt64.self)
                let quote = word ^ (ones &* 0x22)
                let backslash = word ^ (ones &* 0x5C)
                // A byte's high bit is set where it is zero in `quote` or `backslash` (v - 1
                // borrows, v's own high bit clear) or below 0x20 in `word`. Borrows only carry
                // upwards, so the lowest flagged byte is a real stop.
                let stops = (((quote &- ones) & ~quote) | ((backslash &- ones) & ~backslash)
                    | ((word &- ones &* 0x20) & ~word)) & (ones &* 0x80)
                if stops != 0 {
                    index += stops.trailingZeroBitCount >> 3  // little-endian: first byte lowest
                    return
                }
                index += 8
            }
            while index < count {
                let byte = base[index]
                if byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") { return }
                index += 1
            }
        }

        /// After a backslash: one of \" \\ / b f n r t, or u and four hex digits.
        mutating func escape() -> Bool {
            let escaped = peek
            index += 1
            if escaped == UInt8(ascii: "u") {
                for _ in 0..<4 {
                    guard isHex(peek) else { return false }
                    index += 1
                }
                return true
            }
            return escaped != 0 && "\"\\/bfnrt".utf8.contains(escaped)
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
            while index < count, base[index] >= UInt8(ascii: "0"), base[index] <= UInt8(ascii: "9") { index += 1 }
            return index > start
        }

        func isHex(_ byte: UInt8) -> Bool {
            (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
                || (byte | 0x20 >= UInt8(ascii: "a") && byte | 0x20 <= UInt8(ascii: "f"))
        }
    }
}
