import GRPCCore
import GRPCNIOTransportHTTP2Posix
import GRPCProtobuf
import SwiftProtobuf

/// A client of a container runtime's CRI service (runtime.v1) over its Unix socket: containerd,
/// cri-o. Each call has a deadline; `run` keeps the connection and must be running for calls
/// to be answered.
public final class RuntimeClient: Sendable {
    public let socketPath: String
    private let client: GRPCClient<HTTP2ClientTransport.Posix>

    static let service = "runtime.v1.RuntimeService"

    public init(socketPath: String) throws {
        self.socketPath = socketPath
        client = GRPCClient(
            transport: try HTTP2ClientTransport.Posix(
                target: .unixDomainSocket(path: socketPath), transportSecurity: .plaintext))
    }

    /// Keeps the connection until `close`.
    public func run() async throws { try await client.runConnections() }

    public func close() { client.beginGracefulShutdown() }

    public func listPodSandboxes(id: String = "", timeout: Duration = .seconds(2)) async throws -> [Runtime_V1_PodSandbox] {
        var request = Runtime_V1_ListPodSandboxRequest()
        if !id.isEmpty { request.filter.id = id }
        let response: Runtime_V1_ListPodSandboxResponse = try await call("ListPodSandbox", request, timeout: timeout)
        return response.items
    }

    public func listContainers(id: String = "", timeout: Duration = .seconds(2)) async throws -> [Runtime_V1_Container] {
        var request = Runtime_V1_ListContainersRequest()
        if !id.isEmpty { request.filter.id = id }
        let response: Runtime_V1_ListContainersResponse = try await call("ListContainers", request, timeout: timeout)
        return response.containers
    }

    public func runPodSandbox(_ config: Runtime_V1_PodSandboxConfig) async throws -> String {
        var request = Runtime_V1_RunPodSandboxRequest()
        request.config = config
        let response: Runtime_V1_RunPodSandboxResponse = try await call("RunPodSandbox", request, timeout: .seconds(60))
        return response.podSandboxID
    }

    public func createContainer(
        in sandbox: String, _ config: Runtime_V1_ContainerConfig, sandboxConfig: Runtime_V1_PodSandboxConfig
    ) async throws -> String {
        var request = Runtime_V1_CreateContainerRequest()
        request.podSandboxID = sandbox
        request.config = config
        request.sandboxConfig = sandboxConfig
        let response: Runtime_V1_CreateContainerResponse = try await call("CreateContainer", request, timeout: .seconds(60))
        return response.containerID
    }

    public func startContainer(_ id: String) async throws {
        var request = Runtime_V1_StartContainerRequest()
        request.containerID = id
        let _: Runtime_V1_StartContainerResponse = try await call("StartContainer", request, timeout: .seconds(60))
    }

    /// Stops and removes a pod sandbox with its containers.
    public func removePodSandbox(_ id: String) async throws {
        var stop = Runtime_V1_StopPodSandboxRequest()
        stop.podSandboxID = id
        let _: Runtime_V1_StopPodSandboxResponse = try await call("StopPodSandbox", stop, timeout: .seconds(60))
        var remove = Runtime_V1_RemovePodSandboxRequest()
        remove.podSandboxID = id
        let _: Runtime_V1_RemovePodSandboxResponse = try await call("RemovePodSandbox", remove, timeout: .seconds(60))
    }

    private func call<Request: SwiftProtobuf.Message & Sendable, Response: SwiftProtobuf.Message & Sendable>(
        _ method: String, _ request: Request, timeout: Duration
    ) async throws -> Response {
        var options = CallOptions.defaults
        options.timeout = timeout
        return try await client.unary(
            request: ClientRequest(message: request),
            descriptor: MethodDescriptor(fullyQualifiedService: Self.service, method: method),
            serializer: ProtobufSerializer<Request>(), deserializer: ProtobufDeserializer<Response>(),
            options: options
        ) { try $0.message }
    }
}
