import Foundation
import Hummingbird
import NIOCore
import SystemFiles

/// Lets only root and members of the socket's group use the API, by the peer credentials of
/// the Unix socket connection (SO_PEERCRED), whatever the socket file's mode says.
struct PeerCredentialsMiddleware: RouterMiddleware {
    typealias Context = ControlContext
    /// Besides root; nil: root only.
    let group: gid_t?

    func handle(
        _ request: Request, context: ControlContext, next: (Request, ControlContext) async throws -> Response
    ) async throws -> Response {
        guard let provider = context.channel as? any SocketOptionProvider else {
            throw HTTPError(.forbidden, message: "cannot tell who is connecting")
        }
        let peer: PeerCredentials = try await provider.unsafeGetSocketOption(
            level: SocketOptionLevel(SOL_SOCKET), name: SocketOptionName(SO_PEERCRED)
        ).get()
        guard Self.allowed(peer, group: group) else {
            throw HTTPError(.forbidden, message: "uid \(peer.uid) is neither root nor in tawond's socket group")
        }
        var context = context
        context.peer = peer
        return try await next(request, context)
    }

    static func allowed(_ peer: PeerCredentials, group: gid_t?) -> Bool {
        if peer.uid == 0 { return true }
        guard let group else { return false }
        return peer.gid == group || supplementaryGroups(of: peer.pid).contains(group)
    }

    /// The groups on the "Groups:" line of /proc/PID/status.
    static func supplementaryGroups(of pid: pid_t) -> [gid_t] {
        guard let status = SystemFile.text("/proc/\(pid)/status"),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("Groups:") })
        else { return [] }
        return line.dropFirst("Groups:".count).split(separator: " ").compactMap { gid_t($0.trimmingCharacters(in: .whitespaces)) }
    }
}

/// `struct ucred` as SO_PEERCRED returns it (glibc shows it to C only with _GNU_SOURCE).
public struct PeerCredentials: Sendable {
    public var pid: pid_t = 0
    public var uid: uid_t = 0
    public var gid: gid_t = 0

    public init() {}
}
