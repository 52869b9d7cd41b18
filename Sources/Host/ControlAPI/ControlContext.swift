import Hummingbird
import NIOCore

/// Request context of the control API: keeps the connection's channel for its peer credentials.
public struct ControlContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    let channel: any Channel

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        channel = source.channel
    }
}
