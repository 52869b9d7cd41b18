import Foundation
import Logging
import Yams

/// tawond's settings: from a YAML file (default /etc/tawon/tawond.yaml), each also a flag.
/// An unknown key or a bad value is an error that names it; no file means the defaults.
public struct DaemonConfiguration: Sendable, Equatable {
    /// One output of every record.
    public struct Output: Sendable, Equatable {
        public enum Kind: String, Sendable { case stdout, file }
        public var kind: Kind
        public var format: OutputFormat = .json
        /// For files.
        public var path: String = ""
        /// Rotate a file once it passes this size (0: never).
        public var maxBytes: Int = 100 << 20
        /// Rotated files kept (path.1 … path.N).
        public var maxFiles: Int = 5

        public init(kind: Kind, format: OutputFormat = .json, path: String = "", maxBytes: Int = 100 << 20, maxFiles: Int = 5) {
            self.kind = kind
            self.format = format
            self.path = path
            self.maxBytes = maxBytes
            self.maxFiles = maxFiles
        }
    }

    public static let defaultPath = "/etc/tawon/tawond.yaml"

    public var taskDirectories: [String] = []
    public var socketPath = "/run/tawon/tawond.sock"
    /// Group allowed to use the socket besides root ("" : root only).
    public var socketGroup = ""
    public var outputs: [Output] = []
    public var ringBufferMegabytes = Int(KernelConfiguration.machineRingBufferBytes >> 20)
    public var bufferLimit = 64
    /// Records each live stream buffers for a slow reader before it drops for that reader.
    public var streamBufferRecords = 4096
    /// How long a call may block before its entry is published as unfinished.
    public var callDeadlineMilliseconds = 1000
    /// How long records are held to be handed on in timestamp order across CPUs.
    public var orderWindowMilliseconds = 1
    public var logLevel: Logger.Level = .info
    /// Container runtimes' Unix sockets (Docker Engine API: dockerd, podman's service); nil:
    /// the usual places.
    public var containerSockets: [String]?
    /// Directories of OCI bundles whose annotations name containers and pods that no socket
    /// describes; nil: the usual places.
    public var containerBundleDirectories: [String]?

    public init() {}

    /// A setting that is unknown or has a bad value.
    public struct Problem: Error, Equatable, CustomStringConvertible {
        public let description: String
        /// One line, whatever the file held: YAML errors quote the offending line under a caret.
        public init(_ description: String) {
            self.description = description.split(whereSeparator: \.isNewline)
                .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }.joined(separator: " ")
        }
    }

    /// Reads `path`; a missing file gives the defaults only when `required` is false.
    public static func load(path: String, required: Bool) throws(Problem) -> DaemonConfiguration {
        guard FileManager.default.fileExists(atPath: path) else {
            if required { throw Problem("\(path): no such file") }
            return DaemonConfiguration()
        }
        // Read with a bound, as any file: /dev/null is an empty configuration, /dev/zero no hang.
        // Opened without blocking: a FIFO nobody writes to would wait forever.
        let descriptor = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard descriptor >= 0 else { throw Problem("\(path): cannot read it: \(String(cString: strerror(errno)))") }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else { throw Problem("\(path): cannot read it: \(String(cString: strerror(errno)))") }
        switch status.st_mode & S_IFMT {
        case S_IFREG, S_IFCHR: break
        case S_IFDIR: throw Problem("\(path): is a directory, not a file")
        default: throw Problem("\(path): not a regular file (a FIFO or a socket)")
        }
        guard let bytes = try? FunctionFileExpansion.readBounded(descriptor, path) else {
            throw Problem("\(path): cannot read it, or it holds more than 1 MiB")
        }
        guard let text = String(validating: bytes, as: UTF8.self), !text.contains("\0") else {
            throw Problem("\(path): not UTF-8 text")
        }
        do { return try parse(text, source: path) } catch let problem as Problem { throw problem } catch {
            throw Problem("\(path): \(error)")
        }
    }

    /// Parses YAML text.
    public static func parse(_ text: String, source: String = "configuration") throws -> DaemonConfiguration {
        try parse(text, source: source, composeDeadline: composeDeadline)
    }

    static func parse(_ text: String, source: String, composeDeadline: Duration) throws -> DaemonConfiguration {
        let composed = try composeWithinDeadline(text, source: source, deadline: composeDeadline)
        guard let composed else { return DaemonConfiguration() }
        var budget = maximumNodes
        let document = try plainValue(composed, source: source, depth: 0, budget: &budget)
        if document is NSNull { return DaemonConfiguration() }
        guard let settings = document as? [String: Any] else { throw Problem("\(source): expected a mapping of settings") }
        var configuration = DaemonConfiguration()
        for (key, value) in settings.sorted(by: { $0.key < $1.key }) {
            try configuration.apply(key, value, source: source)
        }
        try configuration.validate()
        return configuration
    }

    /// How long composing the YAML may take. Yams expands aliases and hashes every mapping key
    /// to find duplicates: a key built of aliases nested a few levels deep, in a file of a few
    /// hundred bytes, would take hours before any limit of ours could count its values.
    static let composeDeadline = Duration.seconds(2)

    /// Yams' node tree of `text`, composed on a thread of its own that is abandoned past the
    /// deadline (tawond exits on a configuration error).
    private static func composeWithinDeadline(_ text: String, source: String, deadline: Duration) throws(Problem) -> Node? {
        final class Outcome: @unchecked Sendable {
            var result: Result<Node?, any Error> = .success(nil)
            let done = DispatchSemaphore(value: 0)
        }
        let outcome = Outcome()
        let thread = Thread {
            outcome.result = Result { try Yams.compose(yaml: text, .basic) }
            outcome.done.signal()
        }
        thread.stackSize = 8 << 20
        thread.start()
        let nanoseconds = Int(deadline.components.seconds) * 1_000_000_000 + Int(deadline.components.attoseconds / 1_000_000_000)
        guard outcome.done.wait(timeout: .now() + .nanoseconds(nanoseconds)) == .success else {
            throw Problem("\(source): the YAML took over \(deadline) to read (aliases nested inside a key?)")
        }
        switch outcome.result {
        case .success(let node): return node
        case .failure(let error):
            throw Problem("\(source): not valid YAML: \(QuotedInput.oneLine("\(error)", limit: 200))")
        }
    }

    /// A configuration is a few dozen values; aliases repeated inside each other could make millions.
    static let maximumNodes = 10_000
    static let maximumDepth = 16

    /// The composed YAML as plain values (String, Int, NSNull, arrays, string-keyed dictionaries).
    /// Done here rather than by Yams' own constructor, which traps on some hostile documents (a
    /// mapping used as a key, malformed merge keys), and its base-60 integers ("1:2:3...") trap on
    /// overflow. Composed with Yams' basic resolver: its default one compiles a dozen regular
    /// expressions, which loads ICU's data (over a MiB of the daemon's memory) to read a few
    /// settings.
    private static func plainValue(_ node: Node, source: String, depth: Int, budget: inout Int) throws(Problem) -> Any {
        budget -= 1
        guard budget >= 0, depth <= maximumDepth else {
            throw Problem("\(source): more than \(maximumNodes) values or nested deeper than \(maximumDepth) levels")
        }
        let line = node.mark.map { "line \($0.line): " } ?? ""
        switch node {
        case .scalar(let scalar):
            // An escaped NUL ("\0") would cut a path or a name short where it reaches the system.
            guard !scalar.string.utf8.contains(0) else { throw Problem("\(source): \(line)a value holds a NUL character") }
            // The scalar's own tag, unresolved: none for plain text, "!!str" when quoted.
            return plainScalar(scalar.string, tag: scalar.tag.description)
        case .sequence(let sequence):
            var values: [Any] = []
            for element in sequence {
                values.append(try plainValue(element, source: source, depth: depth + 1, budget: &budget))
            }
            return values
        case .mapping(let mapping):
            var values: [String: Any] = [:]
            for (key, value) in mapping {
                guard case .scalar(let keyScalar) = key, !keyScalar.string.utf8.contains(0) else {
                    throw Problem("\(source): \(line)a setting's name must be plain text")
                }
                values[keyScalar.string] = try plainValue(value, source: source, depth: depth + 1, budget: &budget)
            }
            return values
        case .alias:
            throw Problem("\(source): \(line)YAML aliases are not supported")
        }
    }

    /// A scalar as a null, a decimal integer, or text. A number that does not fit stays text, refused
    /// where a number is expected.
    static func plainScalar(_ text: String, tag: String) -> Any {
        switch Tag.Name(rawValue: tag) {
        case .implicit:
            if ["", "~", "null", "Null", "NULL"].contains(text) { return NSNull() }
            return Int(text) ?? text as Any
        case .null: return NSNull()
        case .int: return Int(text) ?? text as Any
        default: return text
        }
    }

    static let keys = [
        "taskDirectories", "socketPath", "socketGroup", "outputs", "ringBufferMegabytes", "bufferLimit",
        "streamBufferRecords", "callDeadlineMilliseconds", "orderWindowMilliseconds", "logLevel", "containerSockets",
        "containerBundleDirectories",
    ]

    private mutating func apply(_ key: String, _ value: Any, source: String) throws {
        func bad(_ expected: String) -> Problem { Problem("\(source): \(key): expected \(expected), found '\(QuotedInput.quote("\(value)"))'") }
        switch key {
        case "taskDirectories":
            guard let list = value as? [String] else { throw bad("a list of directories") }
            taskDirectories = list
        case "containerSockets":
            guard let list = value as? [String], list.allSatisfy({ ContainerDirectory.kind(of: $0).path.hasPrefix("/") }) else {
                throw bad("a list of absolute socket paths, each may be prefixed cri: or docker:")
            }
            containerSockets = list
        case "containerBundleDirectories":
            guard let list = value as? [String], list.allSatisfy({ $0.hasPrefix("/") }) else {
                throw bad("a list of absolute directories")
            }
            containerBundleDirectories = list
        case "socketPath":
            guard let text = value as? String, text.hasPrefix("/") else { throw bad("an absolute path") }
            socketPath = text
        case "socketGroup":
            guard let text = value as? String else { throw bad("a group name") }
            socketGroup = text
        case "ringBufferMegabytes":
            guard let number = value as? Int else { throw bad("a power of two from 1 to 1024") }
            ringBufferMegabytes = number
        case "bufferLimit":
            guard let number = value as? Int else { throw bad("a number of bytes") }
            bufferLimit = number
        case "streamBufferRecords":
            guard let number = value as? Int else { throw bad("a number of records") }
            streamBufferRecords = number
        case "callDeadlineMilliseconds":
            guard let number = value as? Int else { throw bad("a number of milliseconds from 1 to 60000") }
            callDeadlineMilliseconds = number
        case "orderWindowMilliseconds":
            guard let number = value as? Int else { throw bad("a number of milliseconds from 0 to 1000") }
            orderWindowMilliseconds = number
        case "logLevel":
            guard let text = value as? String, let level = Logger.Level(rawValue: text) else {
                throw bad("one of trace, debug, info, notice, warning, error, critical")
            }
            logLevel = level
        case "outputs":
            guard let list = value as? [[String: Any]] else { throw bad("a list of outputs") }
            outputs = try list.enumerated().map { try Self.output($1, at: "\(source): outputs[\($0)]") }
        default:
            throw Problem("\(source): unknown setting '\(QuotedInput.quote(key))' (known: \(Self.keys.joined(separator: ", ")))")
        }
    }

    private static func output(_ settings: [String: Any], at place: String) throws -> Output {
        guard let typeName = settings["type"] as? String, let kind = Output.Kind(rawValue: typeName) else {
            throw Problem("\(place): type: expected stdout or file")
        }
        var output = Output(kind: kind)
        for (key, value) in settings where key != "type" {
            switch (key, value) {
            case ("format", let text as String):
                guard let format = OutputFormat(rawValue: text) else { throw Problem("\(place): format: expected json or compact, found '\(QuotedInput.quote(text))'") }
                output.format = format
            case ("path", let text as String): output.path = text
            case ("maxBytes", let number as Int): output.maxBytes = number
            case ("maxFiles", let number as Int): output.maxFiles = number
            case ("format", _), ("path", _), ("maxBytes", _), ("maxFiles", _):
                throw Problem("\(place): \(key): bad value '\(QuotedInput.quote("\(value)"))'")
            default:
                throw Problem("\(place): unknown setting '\(QuotedInput.quote(key))' (known: type, format, path, maxBytes, maxFiles)")
            }
        }
        return output
    }

    static let maximumRotatedFiles = 1000
    /// The longest socket path the control API's socket layer (SwiftNIO) binds: 103 bytes, what
    /// the smallest sun_path it supports holds with its closing NUL (Linux's holds 107).
    static let maximumSocketPathBytes = 103

    /// Checks values that depend on each other; also run after flags are applied.
    public func validate() throws {
        guard ringBufferMegabytes > 0, ringBufferMegabytes <= 1024, ringBufferMegabytes.nonzeroBitCount == 1 else {
            throw Problem("ringBufferMegabytes (--ring-buffer-mb): \(ringBufferMegabytes) is not a power of two from 1 to 1024")
        }
        let limits = KernelConfiguration.bufferLimitRange
        guard limits.contains(bufferLimit) else {
            throw Problem("bufferLimit (--buffer-limit): \(bufferLimit) is not from \(limits.lowerBound) to \(limits.upperBound)")
        }
        guard (1...1_048_576).contains(streamBufferRecords) else {
            throw Problem("streamBufferRecords (--stream-buffer): \(streamBufferRecords) is not from 1 to 1048576")
        }
        guard (1...60_000).contains(callDeadlineMilliseconds) else {
            throw Problem("callDeadlineMilliseconds (--call-deadline-ms): \(callDeadlineMilliseconds) is not from 1 to 60000")
        }
        guard (0...1000).contains(orderWindowMilliseconds) else {
            throw Problem("orderWindowMilliseconds (--order-window-ms): \(orderWindowMilliseconds) is not from 0 to 1000")
        }
        for output in outputs where output.kind == .file && !output.path.hasPrefix("/") {
            throw Problem("outputs: a file output needs an absolute path, found '\(QuotedInput.quote(output.path))'")
        }
        for output in outputs where output.kind == .file {
            guard output.maxBytes >= 0 else {
                throw Problem("outputs: maxBytes: \(output.maxBytes) is negative (0: never rotate)")
            }
            // Rotating renames every kept file: a billion would stall the output for minutes.
            guard (1...Self.maximumRotatedFiles).contains(output.maxFiles) else {
                throw Problem("outputs: maxFiles: \(output.maxFiles) is not from 1 to \(Self.maximumRotatedFiles)")
            }
        }
        guard socketPath.hasPrefix("/") else {
            throw Problem("socketPath (--socket): expected an absolute path, found '\(QuotedInput.quote(socketPath))'")
        }
        // A line break would split the log lines that name the socket.
        guard !socketPath.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) else {
            throw Problem("socketPath (--socket): a control character in '\(QuotedInput.quote(socketPath))'")
        }
        // Checked here: the socket is bound only after the BPF programs have loaded.
        let socketPathBytes = socketPath.utf8.count
        guard socketPathBytes <= Self.maximumSocketPathBytes else {
            throw Problem("socketPath (--socket): \(socketPathBytes) bytes, longer than the \(Self.maximumSocketPathBytes) bytes tawond can bind a Unix socket at")
        }
        for directory in containerBundleDirectories ?? [] where !directory.hasPrefix("/") {
            throw Problem("containerBundleDirectories (--container-bundles): expected an absolute directory, found '\(QuotedInput.quote(directory))'")
        }
    }

    /// Parses a `--output` flag: `stdout`, `stdout:compact`, `file:/path`, `file:/path:compact`.
    public static func output(flag: String) throws -> Output {
        let parts = flag.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        let format = parts.count > (parts.first == "file" ? 2 : 1) ? OutputFormat(rawValue: parts.last!) : .json
        guard let format else { throw Problem("--output \(flag): the format must be json or compact") }
        switch parts.first {
        case "stdout": return Output(kind: .stdout, format: format)
        case "file" where parts.count >= 2 && parts[1].hasPrefix("/"): return Output(kind: .file, format: format, path: parts[1])
        default: throw Problem("--output \(flag): expected stdout[:FORMAT] or file:/PATH[:FORMAT]")
        }
    }
}
