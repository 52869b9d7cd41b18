/// RFC 3339 timestamps in UTC, as the output shows them. Formatted by hand: this runs for every
/// record, and Foundation's formatting costs more than the rest of a record together.
public enum RFC3339 {
    /// `2023-12-11T22:03:59.277299703Z` (nanoseconds), or `2023-12-11T21:04:00Z` (seconds).
    public static func format(nanosecondsSinceEpoch: Int64, fractional: Bool = true) -> String {
        var text = JSONText(capacity: 32)
        append(nanosecondsSinceEpoch: nanosecondsSinceEpoch, fractional: fractional, to: &text)
        return text.string
    }

    /// Appends the timestamp (without quotes) to `text`.
    public static func append(nanosecondsSinceEpoch: Int64, fractional: Bool = true, to text: inout JSONText) {
        let (seconds, nanoseconds) = floorDivision(nanosecondsSinceEpoch, 1_000_000_000)
        let (days, secondOfDay) = floorDivision(seconds, 86_400)
        let (year, month, day) = civilDate(daysSinceEpoch: days)
        text.digits(year, 4)
        text.raw("-")
        text.digits(month, 2)
        text.raw("-")
        text.digits(day, 2)
        text.raw("T")
        text.digits(secondOfDay / 3600, 2)
        text.raw(":")
        text.digits(secondOfDay / 60 % 60, 2)
        text.raw(":")
        text.digits(secondOfDay % 60, 2)
        if fractional {
            text.raw(".")
            text.digits(nanoseconds, 9)
        }
        text.raw("Z")
    }

    /// Formats timestamps of the same second from a cached date and time: records arrive in
    /// bursts, thousands a second.
    public struct SecondCache {
        private var second: Int64 = .min
        private var prefix = JSONText(capacity: 24)

        public init() {}

        public mutating func append(nanosecondsSinceEpoch: Int64, to text: inout JSONText) {
            let (seconds, nanoseconds) = floorDivision(nanosecondsSinceEpoch, 1_000_000_000)
            if seconds != second {
                second = seconds
                prefix.removeAll()
                RFC3339.append(nanosecondsSinceEpoch: seconds * 1_000_000_000, fractional: false, to: &prefix)
                prefix.dropLast()  // the "Z"
            }
            text.rawJSON(prefix)
            text.raw(".")
            text.digits(nanoseconds, 9)
            text.raw("Z")
        }
    }

    private static func floorDivision(_ value: Int64, _ divisor: Int64) -> (Int64, Int64) {
        let quotient = value >= 0 ? value / divisor : (value - divisor + 1) / divisor
        return (quotient, value - quotient * divisor)
    }

    /// Days since 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's algorithm).
    static func civilDate(daysSinceEpoch days: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let shifted = days + 719_468
        let era = (shifted >= 0 ? shifted : shifted - 146_096) / 146_097
        let dayOfEra = shifted - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }
}

extension JSONText {
    /// Appends `value` as exactly `width` decimal digits, zero-padded.
    mutating func digits(_ value: Int64, _ width: Int) {
        // Right to left by constant tens (a multiply, not a division per digit), into a
        // 24-byte scratch: every timestamp writes nine of these.
        var scratch: (UInt64, UInt64, UInt64) = (0, 0, 0)
        let width = min(width, 24)
        withUnsafeMutableBytes(of: &scratch) { buffer in
            var rest = value.magnitude
            for position in stride(from: width - 1, through: 0, by: -1) {
                buffer[position] = UInt8(ascii: "0") + UInt8(rest % 10)
                rest /= 10
            }
            appendBytes(UnsafeRawBufferPointer(rebasing: buffer[..<width]))
        }
    }
}
