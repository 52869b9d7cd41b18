import Foundation
import JSONText

/// One strace-like line for a record: `22:03:59.277299 1644020 simulator write(fd=1, buf="+", count=1)`.
enum CompactLine {
    static func render(_ record: EmittedRecord, colored: Bool) -> String {
        let time = RFC3339.format(nanosecondsSinceEpoch: Int64(record.timestampNanoseconds))
        let clock = String(time.dropFirst(11).prefix(15))
        guard let object = try? JSONSerialization.jsonObject(with: Data(record.json.utf8)) as? [String: Any],
            let function = object["function"] as? String
        else {
            return "\(clock) \(record.taskName) \(record.json)"
        }
        let process = object["process"] as? [String: Any]
        let pid = (process?["pid"] as? Int).map(String.init) ?? "?"
        let name = process?["name"] as? String ?? ""
        let arguments = (object["args"] as? [[String: Any]] ?? []).map { argument in
            let value = argument["value"]
            let rendered = value is String ? "\"\(value!)\"" : "\(value ?? "")"
            return "\(argument["name"] ?? "")=\(rendered)"
        }.joined(separator: ", ")
        let call = "\(function)(\(arguments))"
        guard colored else { return "\(clock) \(pid) \(name) \(call)" }
        return "\u{1B}[2m\(clock)\u{1B}[0m \u{1B}[33m\(pid)\u{1B}[0m \(name) \u{1B}[1;36m\(function)\u{1B}[0m(\(arguments))"
    }
}
