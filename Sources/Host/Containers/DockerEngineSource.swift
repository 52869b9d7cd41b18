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

    private struct State {
        var stopped = false
        var events: HTTPClient.Task<Void>?
        var pause: TimeAmount = .milliseconds(200)
    }

    /// API 1.41: dockerd 20.10 and podman 4 both serve it.
    static let apiPrefix = "/v1.41"
    /// Answers larger than this are refused: a listing of thousands of containers fits.
    static let maximumBody = 32 << 20
    /// A container the kernel shows may not be registered with the runtime yet (a moment while
    /// it is created): a lookup that finds nothing is tried again after these pauses.
    static let lookupRetries: [TimeAmount] = [.milliseconds(100), .milliseconds(300)]

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
        logger.debug("\(name): \(error); again in \(pause.nanoseconds / 1_000_000) ms")
        client.eventLoopGroup.any().scheduleTask(in: pause) { [self] in listThenFollow() }
    }

    private func handle(_ line: Data) {
        guard let event = try? JSONDecoder().decode(EngineEvent.self, from: line),
            event.type == nil || event.type == "container", let id = event.containerID, let action = event.action
        else { return }
        switch action {
        case "create", "start", "rename", "update": inspect(id, retries: [])
        case "destroy", "remove": directory.removed(id)
        default: break
        }
    }

    // MARK: - Lookups

    func requestLookup(_ id: String) { inspect(id, retries: Self.lookupRetries) }

    /// Inspects one container: learned, or not found (a failure counts as not found, so that a
    /// runtime that does not answer leaves no decision pending).
    private func inspect(_ id: String, retries: [TimeAmount]) {
        guard id.count == 64, id.allSatisfy(\.isHexDigit), !stopped else { return directory.notFound(id) }
        get("/containers/\(id)/json", timeout: .seconds(3)).whenComplete { [self] result in
            switch result {
            case .success((200, let body)):
                if let metadata = (try? JSONDecoder().decode(InspectedContainer.self, from: body))?.metadata {
                    return directory.learned(metadata)
                }
            case .success((let status, _)) where status != 404:
                logger.debug("\(name): inspecting \(id.prefix(12)): HTTP \(status)")
            case .failure(let error):
                logger.debug("\(name): inspecting \(id.prefix(12)): \(error)")
            default:
                break
            }
            guard let pause = retries.first, !directory.isKnown(id) else {
                return directory.isKnown(id) ? () : directory.notFound(id)
            }
            client.eventLoopGroup.any().scheduleTask(in: pause) { [self] in inspect(id, retries: Array(retries.dropFirst())) }
        }
    }

    // MARK: - HTTP

    private func get(_ path: String, timeout: TimeAmount) -> EventLoopFuture<(status: UInt, body: Data)> {
        let eventLoop = client.eventLoopGroup.any()
        do {
            let delegate = ResponseAccumulator(request: try request(path), maxBodySize: Self.maximumBody)
            return client.execute(
                request: try request(path), delegate: delegate, eventLoop: .delegate(on: eventLoop),
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

    enum CodingKeys: String, CodingKey {
        case id = "Id", names = "Names", labels = "Labels"
    }

    var metadata: ContainerMetadata? {
        guard id.count == 64 else { return nil }
        return ContainerMetadata(id: id.lowercased(), name: names?.first ?? "", labels: labels ?? [:])
    }
}

/// `GET /containers/ID/json`, the fields used.
private struct InspectedContainer: Decodable {
    struct Configuration: Decodable {
        var labels: [String: String]?
        enum CodingKeys: String, CodingKey { case labels = "Labels" }
    }
    var id: String
    var name: String?
    var configuration: Configuration?

    enum CodingKeys: String, CodingKey {
        case id = "Id", name = "Name", configuration = "Config"
    }

    var metadata: ContainerMetadata? {
        guard id.count == 64 else { return nil }
        return ContainerMetadata(id: id.lowercased(), name: name ?? "", labels: configuration?.labels ?? [:])
    }
}

/// One line of `GET /events`.
private struct EngineEvent: Decodable {
    struct Actor: Decodable {
        var id: String?
        enum CodingKeys: String, CodingKey { case id = "ID" }
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
}
