/// Events derived from the kernel's records: for each kind of record, the events derived from
/// it and how. A derivation nobody asked for is disabled, and costs nothing: the dispatcher
/// attaches the program that writes its records only while one is enabled.
struct DerivationTable: Sendable {
    typealias Derive = @Sendable (CgroupRecord) -> ContainerLifecycleEvent?

    struct Derivation: Sendable {
        let derive: Derive
        var enabled = false
    }

    private var table: [CgroupRecord.Change: [ContainerEventKind: Derivation]]

    init(_ table: [CgroupRecord.Change: [ContainerEventKind: Derivation]]) { self.table = table }

    /// A container is a cgroup named for it: made, it is created; removed, it is gone.
    static let standard = DerivationTable([
        .made: [.create: Derivation(derive: { containerEvent(.create, from: $0) })],
        .removed: [.remove: Derivation(derive: { containerEvent(.remove, from: $0) })],
    ])

    /// Enables exactly the derivations of `kinds`.
    mutating func enable(_ kinds: Set<ContainerEventKind>) {
        for (record, derivations) in table {
            for kind in derivations.keys { table[record]![kind]!.enabled = kinds.contains(kind) }
        }
    }

    /// Whether any derivation is enabled: whether the kernel must report cgroups.
    var anyEnabled: Bool { table.values.contains { $0.values.contains(where: \.enabled) } }

    /// The events the enabled derivations make of `record`.
    func derive(_ record: CgroupRecord) -> [ContainerLifecycleEvent] {
        guard let derivations = table[record.change] else { return [] }
        return derivations.values.filter(\.enabled).compactMap { $0.derive(record) }
    }

    /// The container event a cgroup record stands for: only the unified hierarchy's (a v1
    /// host's controllers each make a copy), and only a cgroup named for a container, not one
    /// nested in it.
    static func containerEvent(_ kind: ContainerEventKind, from record: CgroupRecord) -> ContainerLifecycleEvent? {
        guard record.hierarchyID == 0, let container = CgroupPath.container(atEndOf: record.path) else { return nil }
        let time = UInt64(clamping: KernelClock.wallNanoseconds(boot: record.bootNanoseconds))
        return ContainerLifecycleEvent(
            kind: kind, containerID: container.id, runtime: container.runtime, timestampNanoseconds: time,
            createdNanoseconds: kind == .create ? time : 0, cgroupPath: record.path, pid: record.pid, tid: record.tid,
            cpu: record.cpu, comm: record.comm)
    }
}
