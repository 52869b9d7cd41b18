import Foundation
import Hummingbird
import Logging
import NIOCore
import Synchronization

/// The body of POST /v1/directives.
public struct DirectiveCreation: Codable, Sendable {
    /// The `-c` condition.
    public var conditions: String
    /// The `-t` arguments, as written (`@` values already read by the client).
    public var tasks: [String]
    /// The directive belongs to the client's stream (`…/stream?removeOnClose=true`), which must
    /// come within 5 s; it is removed when that stream ends, or if it never comes.
    public var ownedByStream: Bool?

    public init(conditions: String, tasks: [String], ownedByStream: Bool? = nil) {
        self.conditions = conditions
        self.tasks = tasks
        self.ownedByStream = ownedByStream
    }
}

/// GET /v1/directives.
public struct DirectiveList: Codable, Sendable {
    public var directives: [DirectiveSummary]
}

extension DirectiveSummary: ResponseEncodable {}
extension DirectiveList: ResponseEncodable {}
extension DaemonStatus: ResponseEncodable {}

/// The control API: HTTP with JSON bodies on tawond's Unix socket.
///
/// | resource | |
/// | --- | --- |
/// | `GET /v1/directives`, `POST /v1/directives` | list, create |
/// | `GET /v1/directives/{id}`, `DELETE /v1/directives/{id}` | get, remove |
/// | `GET /v1/directives/{id}/stream[?format=compact]` | its records, live, as lines |
/// | `GET /v1/tasks`, `GET /v1/tasks/{name}` | list, describe |
/// | `GET /v1/status`, `GET /v1/health`, `GET /metrics` | status, self-test, Prometheus |
public enum ControlAPI {
    public static func router(daemon: Daemon, group: gid_t?) -> Router<ControlContext> {
        let router = Router(context: ControlContext.self)
        router.add(middleware: PeerCredentialsMiddleware(group: group))
        router.add(middleware: UnknownRouteMiddleware())
        let v1 = router.group("v1")
        v1.get("directives") { _, _ in DirectiveList(directives: daemon.pipeline.summaries) }
        v1.post("directives") { request, context -> EditedResponse<DirectiveSummary> in
            let creation = try await request.decode(as: DirectiveCreation.self, context: context)
            // The client that will read the directive's stream is not traced from now on, so
            // that none of its own calls are in it.
            let reader = creation.ownedByStream == true ? context.peer.map { UInt32($0.pid) } : nil
            if let reader { daemon.pipeline.dispatcher.exclude(reader) }
            let summary: DirectiveSummary
            do { summary = try create(creation, daemon: daemon) } catch {
                if let reader { daemon.pipeline.dispatcher.stopExcluding(reader) }
                throw error
            }
            if creation.ownedByStream == true { daemon.expectOwningStream(for: summary.id, reader: reader) }
            return EditedResponse(status: .created, response: summary)
        }
        v1.get("directives/:id") { _, context -> DirectiveSummary in
            let id = try context.parameters.require("id")
            guard let found = daemon.pipeline.summaries.first(where: { $0.id == id }) else {
                throw HTTPError(.notFound, message: "no directive \(id)")
            }
            return found
        }
        v1.delete("directives/:id") { _, context -> HTTPResponse.Status in
            let id = try context.parameters.require("id")
            guard daemon.pipeline.remove(id) else { throw HTTPError(.notFound, message: "no directive \(id)") }
            return .noContent
        }
        v1.get("directives/:id/stream") { request, context -> Response in
            try await stream(request, context: context, daemon: daemon)
        }
        v1.get("tasks") { _, _ in json(try TaskCatalogReport.list(daemon.catalog, json: true)) }
        v1.get("tasks/:name") { _, context -> Response in
            let name = try context.parameters.require("name")
            guard let task = daemon.catalog.task(named: name) else { throw HTTPError(.notFound, message: "no task \(QuotedInput.quote(name))") }
            return json(try TaskCatalogReport.describe(task, json: true))
        }
        v1.get("status") { _, _ in daemon.status() }
        v1.get("health") { request, _ -> Response in
            let timeout: Duration
            let text: String? = request.uri.queryParameters.get("timeout")
            do { timeout = try HealthTimeout.parse(text: text) } catch {
                throw HTTPError(.badRequest, message: "\(error)")
            }
            let report = await HealthCheck.run(in: daemon.pipeline, timeout: timeout)
            let body = try JSONEncoder().encode(report)
            return Response(
                status: report.healthy ? .ok : .serviceUnavailable, headers: [.contentType: "application/json"],
                body: .init(byteBuffer: ByteBuffer(bytes: body)))
        }
        router.get("metrics") { _, _ -> Response in
            Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
                body: .init(byteBuffer: ByteBuffer(bytes: daemon.metrics.render(daemon.status()))))
        }
        return router
    }

    static func create(_ creation: DirectiveCreation, daemon: Daemon) throws -> DirectiveSummary {
        do {
            let specs = try creation.tasks.map { try TaskSpec.parse($0) }
            return try daemon.pipeline.add(DirectiveRequest(conditions: creation.conditions, tasks: specs))
        } catch let error as TaskSpecError {
            throw HTTPError(.badRequest, message: error.description)
        } catch let error as DirectiveError {
            throw HTTPError(error == .stopping ? .serviceUnavailable : .badRequest, message: error.description)
        }
    }

    static func stream(_ request: Request, context: ControlContext, daemon: Daemon) async throws -> Response {
        let id = try context.parameters.require("id")
        guard daemon.pipeline.summaries.contains(where: { $0.id == id }) else {
            throw HTTPError(.notFound, message: "no directive \(id)")
        }
        let asked = request.uri.queryParameters.get("format").map { String($0) }
        guard let format = asked.map({ OutputFormat(rawValue: $0) }) ?? .json else {
            throw HTTPError(.badRequest, message: "format: expected json or compact, found '\(QuotedInput.quote(asked ?? ""))'")
        }
        // `tawonctl d sub` owns its directive: gone with the stream, however the client ended.
        let removeOnClose = request.uri.queryParameters.get("removeOnClose") == "true"
        // A stream's reader is not traced while it reads: it would feed on its own reading.
        let reader = context.peer.map { UInt32($0.pid) }
        let exclusion = reader.map { daemon.pipeline.dispatcher.exclude($0) }
        let subscriber = daemon.streams.subscribe(directiveID: id, format: format)
        // Nothing is sent, not even the response's head, before the reader is excluded in the
        // kernel: none of its reading of the stream can be in it. What comes meanwhile waits in
        // its buffer.
        if let exclusion { await daemon.pipeline.dispatcher.waitUntilApplied(exclusion: exclusion) }
        let creator = removeOnClose ? daemon.owningStreamAttached(id) : nil
        // Ended with the body, or with the response if the client left before the body ran.
        let lease = StreamLease {
            daemon.streams.unsubscribe(subscriber.id)
            if removeOnClose { daemon.pipeline.remove(id) }
            for pid in [reader, creator].compactMap({ $0 }) { daemon.pipeline.dispatcher.stopExcluding(pid) }
        }
        return Response(
            status: .ok, headers: [.contentType: "application/x-ndjson"],
            body: ResponseBody { writer in
                // An empty line every 2 s, into the reader's own bounded buffer: a reader gone
                // while its directive is quiet is noticed at the next write (traced again, and
                // its directive removed if it owns it), and one that stops reading still holds
                // no more than its buffer.
                let heartbeat = Task {
                    while !Task.isCancelled {
                        try? await Task.sleep(for: streamHeartbeat)
                        subscriber.heartbeat()
                    }
                }
                defer {
                    heartbeat.cancel()
                    lease.end()
                }
                let connection = StreamConnection(writer)
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask {
                        while let lines = await subscriber.take() {
                            var batch = ByteBuffer()
                            batch.reserveCapacity(lines.reduce(0) { $0 + $1.utf8.count })
                            for line in lines { batch.writeString(line) }
                            subscriber.writing(lines)
                            try await connection.writer.write(batch)
                            subscriber.writing(nil)
                        }
                    }
                    // Once the stream has ended (its directive removed, the daemon stopping),
                    // the reader has a moment to take what it was sent; one that does not read
                    // is cut, so that it holds nothing, nor the daemon's exit, and what it did
                    // not take is counted as lost to it.
                    group.addTask {
                        await subscriber.waitUntilEnded()
                        try await Task.sleep(for: streamDrainWhenEnded)
                        throw CancellationError()
                    }
                    try await group.next()
                    group.cancelAll()
                }
                writer = connection.writer
                try await writer.finish(nil)
            })
    }

    static let streamHeartbeat: Duration = .seconds(2)
    static let streamDrainWhenEnded: Duration = .seconds(1)

    static func json(_ text: String) -> Response {
        Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}

/// A stream's response writer, moved into the task that writes the records so that the body can
/// cancel a write the reader never takes. Only one task uses it at a time.
final class StreamConnection: @unchecked Sendable {
    var writer: any ResponseBodyWriter

    init(_ writer: any ResponseBodyWriter) {
        self.writer = writer
    }
}

/// What a live stream holds in the daemon (its reader's exclusion, the directive it owns),
/// given back once: when its body ends, or when its response is dropped unsent.
final class StreamLease: Sendable {
    private let ended = Atomic<Bool>(false)
    private let release: @Sendable () -> Void

    init(_ release: @escaping @Sendable () -> Void) {
        self.release = release
    }

    func end() {
        if !ended.exchange(true, ordering: .acquiringAndReleasing) { release() }
    }

    deinit { end() }
}
