import Foundation
import SystemFiles

/// Reads `functions:@FILE` and `functions:@-` on the client side, where the file and the
/// terminal are, and puts the names in their place.
public enum FunctionFileExpansion {
    /// Returns `spec` with an `@` value of `functions` replaced by the names read. Names in the
    /// file may be separated by '+', spaces, commas or new lines. `ALL` cannot come from a file
    /// (the seed: use one or the other).
    /// The most a list of names is read of: /dev/zero or a runaway pipe must not fill memory.
    public static let maximumBytes = 1 << 20

    public static func expand(
        _ spec: TaskSpec, readStandardInput: () throws -> [UInt8] = { try readBounded(STDIN_FILENO, "standard input") }
    ) throws -> TaskSpec {
        guard let index = spec.options.firstIndex(where: { $0.name == "functions" && $0.value.hasPrefix("@") })
        else { return spec }
        let source = String(spec.options[index].value.dropFirst())
        let bytes: [UInt8]
        do {
            if source == "-" {
                bytes = try readStandardInput()
            } else {
                let descriptor = open(source, O_RDONLY | O_CLOEXEC)  // may be a pipe, e.g. @/dev/fd/63
                guard descriptor >= 0 else { throw ReadProblem("cannot read the file: \(String(cString: strerror(errno)))") }
                defer { close(descriptor) }
                bytes = try readBounded(descriptor, source)
            }
        } catch let problem as ReadProblem {
            throw DirectiveError("functions:@\(source): \(problem.reason)")
        }
        if let zero = bytes.firstIndex(of: 0) {
            throw DirectiveError("functions:@\(source): a NUL byte at byte \(zero + 1); names are text")
        }
        let text = String(decoding: bytes, as: UTF8.self)
        let names = text.split { $0 == "+" || $0 == "," || $0.isWhitespace }.map(String.init)
        let origin = source == "-" ? "standard input" : source
        if names.isEmpty { throw DirectiveError("functions:@\(source): no function names in \(origin)") }
        if names.contains(where: { $0.uppercased() == "ALL" }) {
            throw DirectiveError(
                "functions:@\(source): ALL cannot be read from a file; use functions:ALL or list the names")
        }
        var expanded = spec
        expanded.options[index].value = names.joined(separator: "+")
        return expanded
    }

    struct ReadProblem: Error {
        let reason: String
        init(_ reason: String) { self.reason = reason }
    }

    /// Everything `descriptor` gives until its end, refused past `maximumBytes`.
    public static func readBounded(_ descriptor: Int32, _ name: String) throws -> [UInt8] {
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65_536)
        while true {
            let got = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if got < 0 && errno == EINTR { continue }
            guard got >= 0 else { throw ReadProblem("cannot read \(name): \(String(cString: strerror(errno)))") }
            if got == 0 { return bytes }
            bytes += chunk[..<got]
            if bytes.count > maximumBytes { throw ReadProblem("\(name) holds more than \(maximumBytes >> 20) MiB") }
        }
    }
}
