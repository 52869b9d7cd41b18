import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// Talks to tawond over its Unix socket.
public struct DaemonClient: Sendable {
    public static let defaultSocket = "/run/tawon/tawond.sock"
    public let socketPath: String

    public init(socketPath: String = DaemonClient.defaultSocket) {
        self.socketPath = socketPath
    }

    /// A request the daemon refused, or a daemon that could not be reached, in one line.
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    public func createDirective(_ creation: DirectiveCreation) async throws -> DirectiveSummary {
        try await send(.POST, "/v1/directives", body: try JSONEncoder().encode(creation), expecting: DirectiveSummary.self)
    }

    public func directives() async throws -> [DirectiveSummary] {
        try await send(.GET, "/v1/directives", expecting: DirectiveList.self).directives
    }

    public func removeDirective(_ id: String) async throws {
        _ = try await data(.DELETE, "/v1/directives/\(id)")
    }

    public func tasks() async throws -> TaskCatalogReport.Listing {
        try await send(.GET, "/v1/tasks", expecting: TaskCatalogReport.Listing.self)
    }

    public func task(_ name: String) async throws -> TaskCatalogReport.Description {
        try await send(.GET, "/v1/tasks/\(name)", expecting: TaskCatalogReport.Description.self)
    }

    public func status() async throws -> DaemonStatus {
        try await send(.GET, "/v1/status", expecting: DaemonStatus.self)
    }

    public func health(timeout: Double) async throws -> HealthCheck.Report {
        let (status, body) = try await exchange(.GET, "/v1/health?timeout=\(timeout)", body: nil)
        guard status == .ok || status == .serviceUnavailable else { throw failure(status, body) }
        return try JSONDecoder().decode(HealthCheck.Report.self, from: body)
    }

    /// Calls `line` with each line of a directive's live stream until it ends or the task is
    /// cancelled.
    /// With `removeOnClose` the daemon removes the directive when this stream ends, however this
    /// process ends, and sends an empty line ("\n") now and then to notice; `line` gets those too.
    public func stream(
        _ id: String, format: OutputFormat, removeOnClose: Bool = false, line: (String) throws -> Void
    ) async throws {
        try checkReachable()
        let query = "format=\(format.rawValue)" + (removeOnClose ? "&removeOnClose=true" : "")
        var request = HTTPClientRequest(url: try url("/v1/directives/\(id)/stream?\(query)"))
        request.method = .GET
        let response = try await HTTPClient.shared.execute(request, timeout: .hours(24 * 365))
        guard response.status == .ok else {
            throw failure(response.status, Data(buffer: try await response.body.collect(upTo: 1 << 20)))
        }
        var pending = ""
        for try await buffer in response.body {
            pending += String(buffer: buffer)
            while let newline = pending.firstIndex(of: "\n") {
                try line(String(pending[...newline]))
                pending = String(pending[pending.index(after: newline)...])
            }
        }
    }

    private func send<Value: Decodable>(
        _ method: HTTPMethod, _ path: String, body: Data? = nil, expecting: Value.Type
    ) async throws -> Value {
        try JSONDecoder().decode(Value.self, from: try await data(method, path, body: body))
    }

    private func data(_ method: HTTPMethod, _ path: String, body: Data? = nil) async throws -> Data {
        let (status, data) = try await exchange(method, path, body: body)
        guard (200..<300).contains(status.code) else { throw failure(status, data) }
        return data
    }

    private func exchange(_ method: HTTPMethod, _ path: String, body: Data?) async throws -> (HTTPResponseStatus, Data) {
        try checkReachable()
        var request = HTTPClientRequest(url: try url(path))
        request.method = method
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        do {
            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
            return (response.status, Data(buffer: try await response.body.collect(upTo: 16 << 20)))
        } catch let error as HTTPClientError {
            throw unreachable("\(error)")
        } catch let error as ChannelError {
            throw unreachable("\(error)")
        } catch let error as IOError {
            throw unreachable(error.description)
        }
    }

    /// Fails at once, with the reason, when nothing answers on the socket (no daemon, no
    /// permission): the HTTP client would take its whole timeout to say so.
    private func checkReachable() throws {
        if case .failed(let reason, _) = UnixSocketProbe.probe(socketPath) {
            throw unreachable(reason)
        }
    }

    private func unreachable(_ reason: String) -> Failure {
        Failure(description: "cannot reach tawond at \(QuotedInput.quote(socketPath)): \(reason)")
    }

    private func url(_ path: String) throws -> String {
        guard let url = URL(httpURLWithSocketPath: socketPath, uri: path) else {
            throw Failure(description: "bad socket path \(socketPath)")
        }
        return url.absoluteString
    }

    /// The daemon's error message (Hummingbird's {"error":{"message":…}}), or the status.
    private func failure(_ status: HTTPResponseStatus, _ body: Data) -> Failure {
        struct Envelope: Decodable { struct Inner: Decodable { var message: String? }; var error: Inner }
        let message = (try? JSONDecoder().decode(Envelope.self, from: body))?.error.message
        return Failure(description: "tawond: \(message ?? "\(status.code) \(status.reasonPhrase)")")
    }
}
