import Foundation
import SystemFiles

/// Reads `functions:@FILE` and `functions:@-` on the client side, where the file and the
/// terminal are, and puts the names in their place.
public enum FunctionFileExpansion {
    /// Returns `spec` with an `@` value of `functions` replaced by the names read. Names in the
    /// file may be separated by '+', spaces, commas or new lines. `ALL` cannot come from a file
    /// (the seed: use one or the other).
    public static func expand(
        _ spec: TaskSpec, readStandardInput: () -> String = { String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self) }
    ) throws -> TaskSpec {
        guard let index = spec.options.firstIndex(where: { $0.name == "functions" && $0.value.hasPrefix("@") })
        else { return spec }
        let source = String(spec.options[index].value.dropFirst())
        let text: String
        if source == "-" {
            text = readStandardInput()
        } else {
            guard let data = SystemFile.read(source) else {  // may be a pipe, e.g. @/dev/fd/63
                throw DirectiveError("functions:@\(source): cannot read the file: \(String(cString: strerror(errno)))")
            }
            text = String(decoding: data, as: UTF8.self)
        }
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
}
