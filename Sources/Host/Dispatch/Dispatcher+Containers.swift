import Foundation
import SystemFiles

/// Container lifecycle events: derived from the kernel's cgroup records, or made when a
/// directive starts (init_namespaces, existing_container); told about the container by its
/// runtime, then handed to the instances that subscribed, in directives whose condition holds
/// for the container (and for the process that made or removed it).
extension Dispatcher {
    func handleCgroup(_ record: CgroupRecord) {
        let events = derivations.derive(record)
        guard !events.isEmpty else { return }
        queueContainerEvents(events)
    }

    func queueContainerEvents(_ events: [ContainerLifecycleEvent]) {
        let dropped = containerEvents.add(events)
        for _ in 0..<dropped { statistics.droppedAwaitingContainer() }
    }

    /// The events a directive gets at its start, for the kinds its instances subscribed to.
    func startEvents(for directive: ActiveDirective) -> [ContainerLifecycleEvent] {
        let now = UInt64(clamping: Int64(Date().timeIntervalSince1970 * 1e9))
        var events: [ContainerLifecycleEvent] = []
        if directive.wants(.initNamespaces) {
            events.append(ContainerLifecycleEvent(
                kind: .initNamespaces, timestampNanoseconds: now, pid: 1, tid: 1,
                comm: SystemFile.text("/proc/1/comm")?.trimmingCharacters(in: .newlines) ?? "",
                namespaces: ContainerLifecycleScan.initNamespaces(), directiveID: directive.id))
        }
        if directive.wants(.existing) {
            for container in ContainerLifecycleScan.existingContainers() {
                events.append(ContainerLifecycleEvent(
                    kind: .existing, containerID: container.id, runtime: container.runtime, timestampNanoseconds: now,
                    createdNanoseconds: container.createdNanoseconds, cgroupPath: container.path, directiveID: directive.id))
            }
        }
        return events
    }

    /// Hands on the queued events whose container the runtimes have described (or given up on).
    func deliverContainerEvents() {
        guard !containerEvents.isEmpty else { return }
        let ready = containerEvents.take(
            ready: { event in
                guard !event.containerID.isEmpty, let containers else { return true }
                return containers.lookup(event.containerID) != .pending
            },
            deadline: RecordsAwaitingContainers.deadline)
        for (event, overdue) in ready {
            if overdue { statistics.decidedWithoutContainer(1) }
            deliver(event)
        }
    }

    private func deliver(_ event: ContainerLifecycleEvent) {
        var metadata: ContainerMetadata?
        if !event.containerID.isEmpty, case .known(let known)? = containers?.lookup(event.containerID) { metadata = known }
        let running = runningDirectives.filter {
            (event.directiveID == nil || $0.id == event.directiveID) && $0.wants(event.kind)
        }
        guard !running.isEmpty else { return }
        let process = subject(of: event, metadata: metadata)
        var deliverable: DeliverableEvent?
        for directive in running where directive.selects(process, capabilities: nil) == true {
            for entry in directive.entries where entry.containerEvents.contains(event.kind) {
                if deliverable == nil { deliverable = Self.deliverable(event, metadata: metadata) }
                hand(deliverable!, to: entry.instance)
            }
        }
    }

    /// What a directive's condition is tested against: the container the event is about, in the
    /// process that made or removed its cgroup (pid 1 for init_namespaces; none for an existing
    /// container). Capabilities are not known: a condition on them does not select the event.
    private func subject(of event: ContainerLifecycleEvent, metadata: ContainerMetadata?) -> ProcessSnapshot {
        var process = (event.pid == 0 ? nil : processes.cached(event.pid) ?? (event.pid == 1 ? processes.snapshot(1) : nil))
            ?? ProcessSnapshot(pid: event.pid, ppid: 0, name: event.comm, cmd: "", exe: "", ns: "", startedAtNanoseconds: 0)
        guard event.kind != .initNamespaces else { return process }
        process.containerID = event.containerID
        process.containerName = metadata?.name ?? ""
        process.containerLabels = metadata?.labels ?? [:]
        process.pod = metadata?.pod ?? PodIdentity()
        process.containerPending = false
        process.cgroup = event.cgroupPath
        return process
    }

    static func deliverable(_ event: ContainerLifecycleEvent, metadata: ContainerMetadata?) -> DeliverableEvent {
        func text(_ name: String, _ value: String) -> DeliverableEvent.Argument {
            .init(name: name, type: "const char *", raw: 0, value: .text(value, truncated: false))
        }
        let arguments: [DeliverableEvent.Argument]
        switch event.kind {
        case .initNamespaces:
            arguments = event.namespaces.map {
                .init(name: $0.name, type: "unsigned int", raw: $0.inode, value: .unsigned($0.inode))
            }
        case .existing, .create:
            arguments = [
                text("runtime", event.runtime), text("container_id", event.containerID),
                .init(name: "ctime", type: "unsigned long", raw: event.createdNanoseconds, value: .unsigned(event.createdNanoseconds)),
                text("container_image", metadata?.image ?? ""), text("container_name", metadata?.name ?? ""),
                text("pod_name", metadata?.pod.name ?? ""), text("pod_namespace", metadata?.pod.namespace ?? ""),
                text("pod_uid", metadata?.pod.id ?? ""),
            ]
        case .remove:
            arguments = [text("runtime", event.runtime), text("container_id", event.containerID)]
        }
        return DeliverableEvent(
            timestampNanoseconds: event.timestampNanoseconds, cpu: event.cpu, pid: event.pid, tid: event.tid,
            functionID: event.kind.rawValue, functionName: event.kind.name, comm: event.comm, arguments: arguments,
            kind: .container, phase: .none)
    }
}
