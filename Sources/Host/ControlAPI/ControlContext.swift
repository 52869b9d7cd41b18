import Hummingbird
import NIOCore

/// Request context of the control API: keeps the connection's channel for its peer credentials.
public struct ControlContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    let channel: any Channel
    /// Who is connecting (SO_PEERCRED), once the credentials middleware has looked.
    var peer: PeerCredentials?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        channel = source.channel
    }
}
