/// The health check's timeout as a user gives it (`?timeout=S`, `--timeout S`): checked where
/// it enters, so that no NaN, infinity or huge number reaches a conversion that traps.
public enum HealthTimeout {
    public static let range: ClosedRange<Double> = 0.1...60
    public static let standard: Double = 5

    /// The timeout for `seconds`, or a one-line reason naming `name` and the range.
    public static func parse(_ seconds: Double, name: String = "timeout") throws(HealthTimeoutError) -> Duration {
        guard seconds.isFinite, range.contains(seconds) else {
            throw HealthTimeoutError(
                "\(name): \(seconds) is not a number of seconds from \(range.lowerBound) to \(range.upperBound)")
        }
        return .milliseconds(Int((seconds * 1000).rounded()))
    }

    /// The same for a query parameter's text.
    public static func parse(text: String?, name: String = "timeout") throws(HealthTimeoutError) -> Duration {
        guard let text else { return try parse(standard, name: name) }
        guard let seconds = Double(text) else {
            throw HealthTimeoutError("\(name): '\(QuotedInput.quote(text))' is not a number of seconds")
        }
        return try parse(seconds, name: name)
    }
}

public struct HealthTimeoutError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
