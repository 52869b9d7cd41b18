import Foundation

/// A hostile container runtime on a Unix socket: answers each HTTP request with what `respond`
/// gives for its path (raw bytes, status line included), or holds the connection open when it
/// gives nil. A test seam for the Docker Engine API source's handling of what a runtime sends.
final class FakeRuntimeSocket: @unchecked Sendable {
    let path: String
    private let listener: Int32
    private let respond: @Sendable (String) -> [UInt8]?
    private let lock = NSLock()
    private var held: [Int32] = []
    private var closed = false

    init(path: String, respond: @escaping @Sendable (String) -> [UInt8]?) throws {
        self.path = path
        self.respond = respond
        unlink(path)
        listener = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: Array(path.utf8)) }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard bound == 0, listen(listener, 16) == 0 else { throw TestFailure("fake runtime: cannot listen on \(path)") }
        Thread { [self] in acceptLoop() }.start()
    }

    /// An HTTP/1.1 answer with a body of `body`.
    static func response(_ status: String, _ body: [UInt8], contentType: String = "application/json") -> [UInt8] {
        Array("HTTP/1.1 \(status)\r\nContent-Type: \(contentType)\r\nContent-Length: \(body.count)\r\n\r\n".utf8) + body
    }

    /// A chunked answer that never ends: `chunk` sent every `interval`, until the test ends.
    static let streamHeader = Array("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n".utf8)

    func close() {
        lock.withLock {
            closed = true
            held.forEach { Glibc.close($0) }
            held = []
        }
        shutdown(listener, Int32(SHUT_RDWR))
        Glibc.close(listener)
        unlink(path)
    }

    /// Keeps a connection open, unanswered or mid-stream, until `close`.
    private func hold(_ connection: Int32) {
        lock.withLock {
            if closed { Glibc.close(connection) } else { held.append(connection) }
        }
    }

    private func acceptLoop() {
        while true {
            let connection = accept(listener, nil, nil)
            guard connection >= 0 else { return }
            Thread { [self] in serve(connection) }.start()
        }
    }

    private func serve(_ connection: Int32) {
        var request: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            // One request per connection is enough for the client; read until its head ends.
            let count = read(connection, &buffer, buffer.count)
            guard count > 0 else { Glibc.close(connection); return }
            request += buffer[0..<count]
            if let text = String(bytes: request, encoding: .utf8), text.contains("\r\n\r\n") {
                let target = text.split(separator: " ").dropFirst().first.map(String.init) ?? "/"
                guard let answer = respond(target) else {
                    hold(connection)
                    return
                }
                var sent = 0
                while sent < answer.count {
                    let wrote = answer[sent...].withUnsafeBytes { write(connection, $0.baseAddress, $0.count) }
                    guard wrote > 0 else { break }
                    sent += wrote
                }
                request = []
                if answer.starts(with: Self.streamHeader) {
                    hold(connection)
                    return
                }
            }
        }
    }
}
