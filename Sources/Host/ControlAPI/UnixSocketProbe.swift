import Foundation

/// Connects to a Unix socket once and hangs up: whether a server answers there, at once, where
/// an HTTP client would take its whole timeout to fail, and who it is.
public enum UnixSocketProbe {
    public enum Outcome: Equatable {
        /// A server accepted; its pid from the connection's peer credentials.
        case answered(pid: pid_t)
        /// Nobody answered; why (no such file, refused, permission denied...), and its errno
        /// (0 when the path itself was the problem).
        case failed(String, errno: Int32)
    }

    public static func probe(_ path: String) -> Outcome {
        let descriptor = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { return .failed(String(cString: strerror(errno)), errno: errno) }
        defer { close(descriptor) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else { return .failed("the path is too long for a socket", errno: 0) }
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: bytes) }
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard connected == 0 else { return .failed(String(cString: strerror(errno)), errno: errno) }
        var credentials = PeerCredentials()
        var length = socklen_t(MemoryLayout<PeerCredentials>.size)
        _ = getsockopt(descriptor, SOL_SOCKET, SO_PEERCRED, &credentials, &length)
        return .answered(pid: credentials.pid)
    }
}
