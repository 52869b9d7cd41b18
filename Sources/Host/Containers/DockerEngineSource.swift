import AsyncHTTPClient
import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1

/// Containers as the Docker Engine API describes them, over a Unix socket: dockerd, and podman's
/// Docker-compatible service. Lists at start, follows `/events`, and inspects an id the kernel
/// shows before the events name it.
///
/// Everything runs on the HTTP client's event loops, through futures: nothing here waits for a
/// thread of Swift's concurrency pool, which a host's blocking work may keep busy.
final class DockerEngineSource: ContainerSource {
    let socketPath: String
    let name: String
    private let directory: ContainerDirectory
    private let logger: Logger
    private let client = HTTPClient.shared
    private let state = NIOLockedValueBox(State())
    private let outage = RuntimeOutage()

    private struct State {
        var stopped = false
        var events: HTTPClient.Task<Void>?
        var pause: TimeAmount = .milliseconds(200)
        /// Containers as their creation events described them, newest last, for those gone
        /// before an inspection could describe them.
        var describedByEvents: [String: ContainerMetadata] = [:]
        var describedOrder: [String] = []
    }

    /// API 1.41: dockerd 20.10 and podman 4 both serve it.
    static let apiPrefix = "/v1.41"
    /// Answers larger than this are refused: a listing of thousands of containers fits.
    static let maximumBody = 32 << 20
    /// Pauses before inspecting again. A runtime busy starting or removing a container answers
    /// with an error for a while (podman: HTTP 500): tried for about 2 s, inside the time the
    /// pipeline holds a pending container's records.
    static let inspectPauses: [TimeAmount] = [.milliseconds(100), .milliseconds(300), .milliseconds(600), .seconds(1)]
    /// A container the kernel shows may not be registered yet (a moment while it is created), or
    /// may be another runtime's: "no such container" is tried again only this often.
    static let notFoundRetries = 2
    /// Creation events remembered (a few hundred bytes each).
    static let maximumDescribedByEvents = 4096

    init(socketPath: String, directory: ContainerDirectory, logger: Logger) {
        self.socketPath = socketPath
        self.name = "docker-engine \(socketPath)"
        self.directory = directory
        self.logger = logger
    }

    /// Whether the socket speaks the API (`GET /_ping` answers OK). A service that has just bound
    /// its socket, or a busy one, may take seconds: a few tries. Blocks; not on an event loop.
    func ping(attempts: Int = 4) -> Bool {
        for attempt in 1...attempts {
            do {
                let status = try get("/_ping", timeout: .seconds(2)).wait().status
                if status == 200 { return true }
                logger.debug("\(name): /_ping: HTTP \(status)")
                return false
            } catch {
                logger.debug("\(name): /_ping (try \(attempt)): \(error)")
            }
            usleep(250_000)
        }
        return false
    }

    func start() { listThenFollow() }

    func stop() {
        let events = state.withLockedValue { state in
            state.stopped = true
            return state.events
        }
        events?.cancel()
    }

    private var stopped: Bool { state.withLockedValue(\.stopped) }

    // MARK: - Listing and following

    /// Lists every container, then follows events; a broken stream is re-opened (and the list
    /// read again, for what happened meanwhile) after a pause that grows to 10 s.
    private func listThenFollow() {
        guard !stopped else { return }
        get("/containers/json?all=true", timeout: .seconds(10)).whenComplete { [self] result in
            do {
                let (status, body) = try result.get()
                guard status == 200 else { throw SourceError("listing containers: HTTP \(status)") }
                for listed in try JSONDecoder().decode([ListedContainer].self, from: body) {
                    if let metadata = listed.metadata { directory.learned(metadata) }
                }
                outage.answered(name, logger: logger)
                followEvents()
            } catch {
                again(after: error)
            }
        }
    }

    private func followEvents() {
        do {
            let filter = #"{"type":["container"]}"#.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
            let task = client.execute(
                request: try request("/events?filters=\(filter)"),
                delegate: EventLines { [weak self] line in self?.handle(line) })
            let cancelled = state.withLockedValue { state in
                state.events = task
                state.pause = .milliseconds(200)
                return state.stopped
            }
            if cancelled { task.cancel() }
            task.futureResult.whenComplete { [self] result in
                if case .failure(let error) = result { again(after: error) } else { again(after: SourceError("events ended")) }
            }
        } catch {
            again(after: error)
        }
    }

    private func again(after error: any Error) {
        let pause: TimeAmount? = state.withLockedValue { state in
            guard !state.stopped else { return nil }
            defer { state.pause = min(state.pause * 2, .seconds(10)) }
            return state.pause
        }
        guard let pause else { return }
        outage.failed(name, error, logger: logger)
        logger.debug("\(name): \(error); again in \(pause.nanoseconds / 1_000_000) ms")
        client.eventLoopGroup.any().scheduleTask(in: pause) { [self] in listThenFollow() }
    }

    private func handle(_ line: Data) {
        guard let event = try? JSONDecoder().decode(EngineEvent.self, from: line),
            event.type == nil || event.type == "container", let id = event.containerID, let action = event.action
        else { return }
        switch action {
        case "create", "start", "rename", "update":
            if action == "create", let described = event.describedContainer { remember(described) }
            inspect(id, attempt: 0, answersLookup: false)
        case "destroy", "remove":
            // A container that ran for a moment may be gone before any inspection described it.
            if !directory.isKnown(id), let described = forget(id) { directory.learned(described) }
            directory.removed(id)
        default: break
        }
    }

    private func remember(_ described: ContainerMetadata) {
        state.withLockedValue { state in
            if state.describedByEvents.updateValue(described, forKey: described.id) == nil {
                state.describedOrder.append(described.id)
            }
            if state.describedOrder.count > Self.maximumDescribedByEvents {
                state.describedByEvents[state.describedOrder.removeFirst()] = nil
            }
        }
    }

    private func forget(_ id: String) -> ContainerMetadata? {
        state.withLockedValue { state in
            guard let described = state.describedByEvents.removeValue(forKey: id) else { return nil }
            state.describedOrder.removeAll { $0 == id }
            return described
        }
    }

    // MARK: - Lookups

    func requestLookup(_ id: String) { inspect(id, attempt: 0, answersLookup: true) }

    /// Inspects one container: learned, or, for a lookup, not found (a failure counts as not
    /// found, so that a runtime that does not answer leaves no decision pending). A container
    /// that cannot be inspected but whose creation event was seen is learned from that event.
    private func inspect(_ id: String, attempt: Int, answersLookup: Bool) {
        guard id.count == 64, id.allSatisfy(\.isHexDigit), !stopped else {
            return answersLookup ? directory.notFound(id) : ()
        }
        get("/containers/\(id)/json", timeout: .seconds(3)).whenComplete { [self] result in
            var retries = Self.inspectPauses.count
            switch result {
            case .success((200, let body)):
                if let metadata = (try? JSONDecoder().decode(InspectedContainer.self, from: body))?.metadata {
                    _ = forget(id)
                    return directory.learned(metadata)
                }
            case .success((404, _)):
                retries = Self.notFoundRetries
            case .success((let status, _)):
                logger.debug("\(name): inspecting \(id.prefix(12)): HTTP \(status)")
            case .failure(let error):
                logger.debug("\(name): inspecting \(id.prefix(12)): \(error)")
            }
            guard !directory.isKnown(id) else { return }
            guard attempt < retries else {
                if let described = forget(id) { return directory.learned(described) }
                return answersLookup ? directory.notFound(id) : ()
            }
            client.eventLoopGroup.any().scheduleTask(in: Self.inspectPauses[attempt]) { [self] in
                inspect(id, attempt: attempt + 1, answersLookup: answersLookup)
            }
        }
    }

    // MARK: - HTTP

    private func get(_ path: String, timeout: TimeAmount) -> EventLoopFuture<(status: UInt, body: Data)> {
        let eventLoop = client.eventLoopGroup.any()
        do {
            let request = try request(path)
            let delegate = ResponseAccumulator(request: request, maxBodySize: Self.maximumBody)
            return client.execute(
                request: request, delegate: delegate, eventLoop: .delegate(on: eventLoop),
                deadline: .now() + timeout
            ).futureResult.map { response in
                (response.status.code, response.body.map { Data(buffer: $0) } ?? Data())
            }
        } catch {
            return eventLoop.makeFailedFuture(error)
        }
    }

    private func request(_ path: String) throws -> HTTPClient.Request {
        guard let url = URL(httpURLWithSocketPath: socketPath, uri: Self.apiPrefix + path) else {
            throw SourceError("bad socket path \(socketPath)")
        }
        // The client would send the escaped socket path as the host, which Go's servers refuse.
        return try HTTPClient.Request(url: url, method: .GET, headers: ["Host": "localhost"])
    }

    struct SourceError: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }
}

/// Splits a streamed body into lines (the events API sends one JSON object per line).
private final class EventLines: HTTPClientResponseDelegate {
    typealias Response = Void
    private let line: @Sendable (Data) -> Void
    private let pending = NIOLockedValueBox(Data())
    /// One event is a few kilobytes; a line without end is not an event.
    static let maximumLine = 1 << 20

    init(line: @escaping @Sendable (Data) -> Void) { self.line = line }

    func didReceiveHead(task: HTTPClient.Task<Void>, _ head: HTTPResponseHead) -> EventLoopFuture<Void> {
        guard head.status == .ok else {
            return task.eventLoop.makeFailedFuture(DockerEngineSource.SourceError("events: HTTP \(head.status.code)"))
        }
        return task.eventLoop.makeSucceededVoidFuture()
    }

    func didReceiveBodyPart(task: HTTPClient.Task<Void>, _ buffer: ByteBuffer) -> EventLoopFuture<Void> {
        let lines: [Data]? = pending.withLockedValue { pending in
            pending.append(contentsOf: buffer.readableBytesView)
            var lines: [Data] = []
            while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                lines.append(Data(pending[pending.startIndex..<newline]))
                pending = Data(pending[pending.index(after: newline)...])
            }
            return pending.count > Self.maximumLine ? nil : lines
        }
        guard let lines else {
            return task.eventLoop.makeFailedFuture(DockerEngineSource.SourceError("events: a line longer than 1 MiB"))
        }
        lines.forEach(line)
        return task.eventLoop.makeSucceededVoidFuture()
    }

    func didFinishRequest(task: HTTPClient.Task<Void>) throws {}
}

// MARK: - The API's JSON

/// One element of `GET /containers/json`.
private struct ListedContainer: Decodable {
    var id: String
    var names: [String]?
    var labels: [String: String]?
    var image: String?

    enum CodingKeys: String, CodingKey {
        case id = "Id", names = "Names", labels = "Labels", image = "Image"
    }

    var metadata: ContainerMetadata? {
        guard id.count == 64 else { return nil }
        return ContainerMetadata(id: id.lowercased(), name: names?.first ?? "", labels: labels ?? [:], image: image ?? "")
    }
}

/// `GET /containers/ID/json`, the fields used.
private struct InspectedContainer: Decodable {
    struct Configuration: Decodable {
        var labels: [String: String]?
        var image: String?
        enum CodingKeys: String, CodingKey { case labels = "Labels", image = "Image" }
    }
    var id: String
    var name: String?
    var configuration: Configuration?

    enum CodingKeys: String, CodingKey {
        case id = "Id", name = "Name", configuration = "Config"
    }

    var metadata: ContainerMetadata? {
        guard id.count == 64 else { return nil }
        return ContainerMetadata(
            id: id.lowercased(), name: name ?? "", labels: configuration?.labels ?? [:], image: configuration?.image ?? "")
    }
}

/// One line of `GET /events`.
private struct EngineEvent: Decodable {
    struct Actor: Decodable {
        var id: String?
        var attributes: [String: String]?
        enum CodingKeys: String, CodingKey { case id = "ID", attributes = "Attributes" }
    }
    var type: String?
    var action: String?
    var actor: Actor?
    /// Older and podman's form of the id.
    var legacyID: String?

    enum CodingKeys: String, CodingKey {
        case type = "Type", action = "Action", actor = "Actor", legacyID = "id"
    }

    var containerID: String? { (actor?.id ?? legacyID)?.lowercased() }

    /// Attributes the runtimes add to a creation event beside the container's labels.
    static let attributesNotLabels: Set<String> = ["name", "image", "podId", "containerExitCode"]

    /// The container as a creation event describes it: its name, and its labels mixed with the
    /// runtime's own attributes (so a label named like one of those is not told apart).
    var describedContainer: ContainerMetadata? {
        guard let id = containerID, id.count == 64, let attributes = actor?.attributes, let name = attributes["name"] else {
            return nil
        }
        return ContainerMetadata(
            id: id, name: name.hasPrefix("/") ? name : "/" + name,
            labels: attributes.filter { !Self.attributesNotLabels.contains($0.key) }, image: attributes["image"] ?? "")
    }
}
