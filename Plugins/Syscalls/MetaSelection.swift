import TawonTaskKit

/// Which process metadata a record carries: the `meta` option, selectors joined by '+'.
///
/// - "" or `process`: every process field (the default, as in the seed's sample)
/// - `none`: no process information
/// - `process.pid`, `process.ppid`, `process.name`, `process.cmd`, `process.exe`, `process.ns`,
///   `process.startedAt`, `process.container` (or `container`): just those fields
/// - `pod`: the process's pod, `{id, name, namespace, labels}`; `pod.min`: `{name, namespace}`
///   (empty values outside a pod, or where no runtime describes pods)
struct MetaSelection: Equatable {
    enum Field: String, CaseIterable {
        case pid, ppid, name, cmd, exe, ns, startedAt, container
    }

    enum PodDetail: Comparable { case none, min, full }

    private(set) var fields: Set<Field>
    private(set) var pod = PodDetail.none

    static let all = MetaSelection(fields: Set(Field.allCases))

    init(fields: Set<Field>) {
        self.fields = fields
    }

    init(_ text: String) throws {
        fields = []
        if text.isEmpty { self = .all; return }
        let selectors = text.split(separator: "+", omittingEmptySubsequences: false).map(String.init)
        if let empty = selectors.firstIndex(of: "") {
            throw TaskError("meta: selector \(empty + 1) of \(selectors.count) is empty in '\(text)'")
        }
        if selectors.contains("none") && selectors.count > 1 {
            throw TaskError("meta: 'none' cannot be combined with other selectors ('\(text)')")
        }
        for selector in selectors {
            switch selector {
            case "process": fields.formUnion(Field.allCases)
            case "none": continue
            case "container": fields.insert(.container)
            case "pod": pod = .full
            case "pod.min": pod = max(pod, .min)
            default:
                guard selector.hasPrefix("process."), let field = Field(rawValue: String(selector.dropFirst(8)))
                else {
                    let known = ["process", "none", "container", "pod", "pod.min"]
                        + Field.allCases.map { "process.\($0.rawValue)" }
                    throw TaskError("meta: unknown selector '\(selector)' (known: \(known.joined(separator: ", ")))")
                }
                fields.insert(field)
            }
        }
    }

    var includesProcess: Bool { !fields.isEmpty || pod != .none }
}
