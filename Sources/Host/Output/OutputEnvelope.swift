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
    public static func json(_ record: EmittedRecord, source: OutputSource) -> String {
        var text = JSONText(capacity: record.json.utf8.count + 256)
        text.raw("{\"data\":[{\"data\":")
        text.rawJSON(record.json)
        text.raw(",\"type\":")
        text.string(record.taskName)
        text.raw("}],\"src\":{\"directiveID\":")
        text.string(record.directiveID)
        text.raw(",\"hostname\":")
        text.string(source.hostname)
        text.raw(",\"instanceID\":")
        text.string(source.instanceID)
        text.raw(",\"name\":")
        text.string(record.taskName)
        text.raw(",\"tawonID\":")
        text.string(source.tawonID)
        text.raw("},\"timestamp\":")
        text.string(RFC3339.format(nanosecondsSinceEpoch: Int64(record.timestampNanoseconds)))
        text.raw("}")
        return text.string
    }
}
