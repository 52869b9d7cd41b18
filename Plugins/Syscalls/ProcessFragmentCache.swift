import JSONText
import TawonTaskKit

/// The `process` object of records, rendered once per (pid, process generation): the host
/// bumps the generation whenever what it knows of a pid changes, so the cached bytes stay right.
struct ProcessFragmentCache {
    private var fragments: [UInt32: (generation: UInt64, json: JSONText)] = [:]
    private let capacity: Int

    init(capacity: Int = 4096) {
        self.capacity = capacity
    }

    /// The fragment for the event's process, from the cache or rendered now.
    mutating func fragment(
        for event: TaskEvent, meta: MetaSelection, host: TaskHost
    ) -> JSONText {
        if let cached = fragments[event.pid], cached.generation == event.processGeneration {
            return cached.json
        }
        let json = Self.render(pid: event.pid, comm: event.comm, process: host.process(event.pid), meta: meta, host: host)
        if fragments.count >= capacity { fragments.removeAll(keepingCapacity: true) }
        fragments[event.pid] = (event.processGeneration, json)
        return json
    }

    /// The process object, keys in the sample's order; only the fields `meta` selects.
    static func render(
        pid: UInt32, comm: String, process: TaskHost.Process?, meta: MetaSelection, host: TaskHost?
    ) -> JSONText {
        var json = JSONText(capacity: 256)
        var first = true
        func field(_ selected: MetaSelection.Field, _ write: (inout JSONText) -> Void) {
            guard meta.fields.contains(selected) else { return }
            json.raw(first ? "{" : ",")
            first = false
            json.key(selected.rawValue)
            write(&json)
        }
        field(.cmd) { $0.string(process?.cmd ?? "") }
        field(.container) { json in
            json.raw("{\"id\":")
            json.string(process?.containerID ?? "")
            json.raw(",\"name\":")
            json.string(process?.containerName ?? "")
            json.raw("}")
        }
        field(.exe) { $0.string(process?.exe ?? "") }
        field(.name) { $0.string(process?.name ?? comm) }
        field(.ns) { $0.string(process?.ns ?? "") }
        field(.pid) { $0.number(pid) }
        if meta.pod != .none {
            json.raw(first ? "{" : ",")
            first = false
            json.key("pod")
            writePod(pid: pid, detail: meta.pod, host: host, into: &json)
        }
        field(.ppid) { $0.number(process?.ppid ?? 0) }
        field(.startedAt) { json in
            json.string(process.map { RFC3339.format(nanosecondsSinceEpoch: $0.startedAtNanoseconds, fractional: false) } ?? "")
        }
        json.raw(first ? "{}" : "}")
        return json
    }

    /// `{id, name, namespace, labels}` (or `{name, namespace}`), from the host's facts; a host
    /// without them, or a process it no longer knows, gives empty values.
    private static func writePod(pid: UInt32, detail: MetaSelection.PodDetail, host: TaskHost?, into json: inout JSONText) {
        func fact(_ name: String) -> String { (try? host?.field(name, of: pid)) ?? "" }
        json.raw("{")
        if detail == .full {
            json.raw("\"id\":")
            json.string(fact("pod.id"))
            json.raw(",")
        }
        json.raw("\"name\":")
        json.string(fact("pod.name"))
        json.raw(",\"namespace\":")
        json.string(fact("pod.namespace"))
        if detail == .full {
            // The host gives the labels as a JSON object; anything else is not passed on.
            let labels = fact("pod.labels")
            json.raw(",\"labels\":")
            if labels.hasPrefix("{") && labels.hasSuffix("}") { json.rawJSON(labels) } else { json.raw("{}") }
        }
        json.raw("}")
    }
}
