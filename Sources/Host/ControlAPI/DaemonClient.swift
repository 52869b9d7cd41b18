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

    /// Calls `lines` with the records of a directive's live stream as they come, until it ends
    /// or the task is cancelled: whole lines, as many at a time as have arrived, each ending in
    /// "\n". With `removeOnClose` the daemon removes the directive when this stream ends, however
    /// this process ends, and sends an empty line now and then to notice; those are left out of
    /// `lines`, and `quiet` is called for each instead.
    public func stream(
        _ id: String, format: OutputFormat, removeOnClose: Bool = false,
        lines: (UnsafeRawBufferPointer) throws -> Void, quiet: () throws -> Void = {}
    ) async throws {
        try checkReachable()
        let query = "format=\(format.rawValue)" + (removeOnClose ? "&removeOnClose=true" : "")
        var request = HTTPClientRequest(url: try url("/v1/directives/\(id)/stream?\(query)"))
        request.method = .GET
        let response = try await HTTPClient.shared.execute(request, timeout: .hours(24 * 365))
        guard response.status == .ok else {
            throw failure(response.status, Data(buffer: try await response.body.collect(upTo: 1 << 20)))
        }
        var splitter = StreamLineSplitter()
        for try await buffer in response.body {
            try buffer.withUnsafeReadableBytes { try splitter.split($0, lines: lines, quiet: quiet) }
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

/// Cuts a stream's bytes, as they arrive in pieces, into runs of whole lines, leaving out the
/// empty ones (a stream's heartbeats): a line at a time would cost a call, and a copy of what
/// follows it, per record.
struct StreamLineSplitter {
    /// The start of a line whose end has not arrived.
    private var partial: [UInt8] = []

    mutating func split(
        _ bytes: UnsafeRawBufferPointer, lines: (UnsafeRawBufferPointer) throws -> Void, quiet: () throws -> Void
    ) throws {
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return }
        var start = 0
        if !partial.isEmpty {
            guard let end = Self.newline(in: bytes, from: 0) else {
                partial.append(contentsOf: bytes)
                return
            }
            partial.append(contentsOf: bytes[...end])
            try partial.withUnsafeBytes { try lines($0) }
            partial.removeAll(keepingCapacity: true)
            start = end + 1
        }
        // A run of lines goes out whole, up to an empty line or the last newline.
        var runStart = start
        var lineStart = start
        while let end = Self.newline(in: bytes, from: lineStart) {
            if end == lineStart {
                if lineStart > runStart { try lines(UnsafeRawBufferPointer(start: base + runStart, count: lineStart - runStart)) }
                try quiet()
                runStart = end + 1
            }
            lineStart = end + 1
        }
        if lineStart > runStart { try lines(UnsafeRawBufferPointer(start: base + runStart, count: lineStart - runStart)) }
        partial.append(contentsOf: bytes[lineStart...])
    }

    private static func newline(in bytes: UnsafeRawBufferPointer, from start: Int) -> Int? {
        guard start < bytes.count, let base = bytes.baseAddress,
            let found = memchr(base + start, 0x0A, bytes.count - start)
        else { return nil }
        return UnsafeRawPointer(found) - base
    }
}
