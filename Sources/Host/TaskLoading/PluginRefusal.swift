/// A plugin file the host would not load, and why, in one line.
public struct PluginRefusal: Error, Sendable, Equatable, Codable, CustomStringConvertible {
    /// The file as found on the search path.
    public let path: String
    /// Why it was refused.
    public let reason: String

    public init(path: String, reason: String) {
        self.path = path
        self.reason = reason
    }

    public var description: String { "refused task plugin \(path): \(reason)" }
}
