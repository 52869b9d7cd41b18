import Foundation
import JSONText

/// Who produced a message: the `src` object of every output line.
public struct OutputSource: Sendable, Equatable {
    public var hostname: String
    /// This run of the host.
    public var instanceID: String
    /// This installation, across restarts.
    public var tawonID: String

    public init(hostname: String, instanceID: String, tawonID: String) {
        self.hostname = hostname
        self.instanceID = instanceID
        self.tawonID = tawonID
    }

    /// The source for this process: the host's name, a new instance ID, the persisted tawonID.
    public static func current() -> OutputSource {
        OutputSource(
            hostname: ProcessInfo.processInfo.hostName, instanceID: Identifier.next(),
            tawonID: InstallationIdentity.load())
    }
}

/// The JSON envelope of one output message, shaped as the seed's sample: `data` (an array of
/// `{data, type}`), `src` (`directiveID`, `hostname`, `instanceID`, `name`, `tawonID`),
/// `timestamp` (RFC 3339, nanoseconds, UTC). Keys in the sample's (sorted) order.
public enum OutputEnvelope {
    /// One envelope as a String.
    public static func json(_ record: EmittedRecord, source: OutputSource) -> String {
        var writer = Writer(source: source)
        var text = JSONText(capacity: record.json.utf8.count + 256)
        writer.append(record, to: &text)
        return text.string
    }

    /// Writes envelopes, reusing the part that only depends on the directive and the task.
    struct Writer {
        let source: OutputSource
        private var tails: [String: JSONText] = [:]
        private var last: (directiveID: String, taskName: String, tail: JSONText)?
        private var clock = RFC3339.SecondCache()

        init(source: OutputSource) {
            self.source = source
        }

        mutating func append(_ record: EmittedRecord, to text: inout JSONText) {
            text.raw("{\"data\":[{\"data\":")
            text.rawJSON(record.json)
            end(record.taskName, record.directiveID, record.timestampNanoseconds, to: &text)
        }

        /// The envelope of a task's JSON as it emitted it, lent for the call.
        mutating func append(
            json: UnsafeRawBufferPointer, taskName: String, directiveID: String, timestampNanoseconds: UInt64,
            to text: inout JSONText
        ) {
            text.raw("{\"data\":[{\"data\":")
            text.rawJSON(bytes: json)
            end(taskName, directiveID, timestampNanoseconds, to: &text)
        }

        private mutating func end(_ taskName: String, _ directiveID: String, _ timestampNanoseconds: UInt64, to text: inout JSONText) {
            text.rawJSON(tail(taskName, directiveID))
            clock.append(nanosecondsSinceEpoch: Int64(timestampNanoseconds), to: &text)
            text.raw("\"}")
        }

        /// `,"type":…}],"src":{…},"timestamp":"` for one task and directive. Records come in
        /// runs from one directive, so the last one is checked before the table.
        private mutating func tail(_ taskName: String, _ directiveID: String) -> JSONText {
            if let last, last.directiveID == directiveID, last.taskName == taskName { return last.tail }
            let key = directiveID + "/" + taskName
            if let cached = tails[key] {
                last = (directiveID, taskName, cached)
                return cached
            }
            var text = JSONText(capacity: 200)
            text.raw(",\"type\":")
            text.string(taskName)
            text.raw("}],\"src\":{\"directiveID\":")
            text.string(directiveID)
            text.raw(",\"hostname\":")
            text.string(source.hostname)
            text.raw(",\"instanceID\":")
            text.string(source.instanceID)
            text.raw(",\"name\":")
            text.string(taskName)
            text.raw(",\"tawonID\":")
            text.string(source.tawonID)
            text.raw("},\"timestamp\":\"")
            if tails.count > 1024 { tails.removeAll() }
            tails[key] = text
            last = (directiveID, taskName, text)
            return text
        }
    }
}
