import JSONText
import TaskABI
import TawonTaskKit

/// The containers task: publishes containers' lifecycle (the host's init namespaces, containers
/// running when the directive starts, containers created and removed) with what their runtimes
/// say of them.
final class ContainersTask: TawonTask {
    static let registration = TaskRegistrationInfo(
        name: "containers", version: "0.1.0",
        description: "Container lifecycle events: init_namespaces, existing_container, container_create "
            + "and container_remove, with each container's runtime, name, image and pod.",
        outputFields: [
            .init("event", "string", "init_namespaces, existing_container, container_create or container_remove."),
            .init("args", "list", "The event's arguments, in order."),
            .init("args.name", "string", "runtime, container_id, ctime, container_image, container_name, pod_name, "
                + "pod_namespace, pod_uid; for init_namespaces each namespace's name (cgroup, ipc, mnt, net, pid, "
                + "pid_for_children, time, time_for_children, user, uts)."),
            .init("args.value", "string|uint64", "Text, or a number: ctime in ns since the Unix epoch, a namespace's inode."),
            .init("process", "map", "The process that made or removed the container's cgroup (create and remove); "
                + "for init_namespaces pid 1. Absent from existing_container."),
            .init("process.pid", "uint32", "Its PID."),
            .init("process.name", "string", "Its name, as the kernel keeps it."),
        ],
        options: [
            .init(
                "events", .string, default: "all",
                "Events to publish, joined by '+': init_namespaces, existing_container, container_create, "
                    + "container_remove, or all (any case)."),
        ])

    static let eventNames: [(String, TaskHost.ContainerEvent)] = [
        ("init_namespaces", .initNamespaces), ("existing_container", .existing), ("container_create", .create),
        ("container_remove", .remove),
    ]

    private let host: TaskHost

    init(host: TaskHost, options: TaskOptions) throws {
        self.host = host
        for event in try Self.events(from: options.string("events")) { try host.subscribe(event) }
    }

    static func events(from list: String) throws -> [TaskHost.ContainerEvent] {
        if list.lowercased() == "all" { return eventNames.map(\.1) }
        var events: [TaskHost.ContainerEvent] = []
        for name in list.split(separator: "+", omittingEmptySubsequences: false) {
            guard let event = eventNames.first(where: { $0.0 == name })?.1 else {
                throw TaskError(
                    "events: unknown event \"\(String(name.prefix(64)))\" (known: "
                        + eventNames.map(\.0).joined(separator: ", ") + ", or all)")
            }
            if !events.contains(event) { events.append(event) }
        }
        return events
    }

    func start() throws {}

    func handle(_ event: TaskEvent) throws {
        guard event.isContainerEvent else { return }
        var json = JSONText(capacity: 512)
        json.raw("{\"args\":[")
        for index in 0..<event.argumentCount {
            if index > 0 { json.raw(",") }
            event.argumentView(index).writeJSON(into: &json)
        }
        json.raw("],\"event\":")
        json.string(utf8: event.functionNameUTF8)
        if event.pid != 0 {
            json.raw(",\"process\":{\"name\":")
            json.string(event.comm)
            json.raw(",\"pid\":")
            json.number(Int64(event.pid))
            json.raw("}")
        }
        json.raw("}")
        try host.emit(json: json, timestampNanoseconds: event.timestampNanoseconds)
    }

    func stop() throws {}
}

@_cdecl("tawon_task_entry")
public func tawonTaskEntry() -> UnsafePointer<tawon_task_descriptor> {
    TaskExport.descriptor(for: ContainersTask.self)
}
