import Foundation

/// RFC 3339 timestamps in UTC, as the output shows them.
public enum RFC3339 {
    /// `2023-12-11T22:03:59.277299703Z` (nanoseconds), or `2023-12-11T21:04:00Z` (seconds).
    public static func format(nanosecondsSinceEpoch: Int64, fractional: Bool = true) -> String {
        let seconds = nanosecondsSinceEpoch.quotientAndRemainder(dividingBy: 1_000_000_000)
        var time = time_t(seconds.quotient)
        var parts = tm()
        gmtime_r(&time, &parts)
        let date = String(
            format: "%04d-%02d-%02dT%02d:%02d:%02d", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1,
            Int(parts.tm_mday), Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec))
        return fractional ? date + String(format: ".%09dZ", Int(seconds.remainder)) : date + "Z"
    }
}
