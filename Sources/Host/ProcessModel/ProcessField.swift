import JSONText

/// The process model's facts by dotted name: what conditions test and what tasks ask for
/// through the ABI (`process_field`). A new fact is a new case here, not a new C struct member.
public enum ProcessField: String, CaseIterable, Sendable {
    case pid = "process.pid"
    case ppid = "process.ppid"
    case name = "process.name"
    case cmd = "process.cmd"
    case exe = "process.exe"
    case ns = "process.ns"
    case startedAt = "process.startedAt"
    case containerID = "container.id"
    case containerName = "container.name"
    case containerLabels = "container.labels"
    case podID = "pod.id"
    case podName = "pod.name"
    case podNamespace = "pod.namespace"
    case podLabels = "pod.labels"

    /// One field's value, typed.
    public enum Value: Sendable, Equatable {
        case string(String)
        case unsigned(UInt64)
        case signed(Int64)
        /// A map or a list, as JSON text.
        case json(String)
    }

    /// The field's value for `process`. Facts no source has supplied are empty.
    public func value(of process: ProcessSnapshot) -> Value {
        switch self {
        case .pid: return .unsigned(UInt64(process.pid))
        case .ppid: return .unsigned(UInt64(process.ppid))
        case .name: return .string(process.name)
        case .cmd: return .string(process.cmd)
        case .exe: return .string(process.exe)
        case .ns: return .string(process.ns)
        case .startedAt: return .signed(process.startedAtNanoseconds)
        case .containerID: return .string(process.containerID)
        case .containerName: return .string(process.containerName)
        case .containerLabels: return .json(Self.object(process.containerLabels))
        case .podID: return .string(process.pod.id)
        case .podName: return .string(process.pod.name)
        case .podNamespace: return .string(process.pod.namespace)
        case .podLabels: return .json(Self.object(process.pod.labels))
        }
    }

    /// Every name, for messages.
    public static var names: String { allCases.map(\.rawValue).joined(separator: ", ") }

    private static func object(_ labels: [String: String]) -> String {
        var json = JSONText(capacity: 64)
        json.raw("{")
        for (index, key) in labels.keys.sorted().enumerated() {
            if index > 0 { json.raw(",") }
            json.key(key)
            json.string(labels[key]!)
        }
        json.raw("}")
        return json.string
    }
}
