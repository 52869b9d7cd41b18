import ArgumentParser
import Foundation
import Host
import Hummingbird
import Logging
import ServiceLifecycle

/// The tawon daemon: task plugins, BPF tracing, directives, outputs and the control API on a
/// Unix socket, run as a service group; SIGTERM or SIGINT shuts it down gracefully.
@main
struct Tawond: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tawond", abstract: "The tawon host agent daemon.",
        discussion: """
            Settings come from the YAML file (default \(DaemonConfiguration.defaultPath)); flags override it.
            Exit status: 0 stopped by SIGTERM or SIGINT; 1 could not start (its socket held by another, \
            an output file that cannot be opened); 64 a bad command line or configuration.
            """)

    @Option(help: "The configuration file.") var config: String?
    @Option(name: .customLong("task-dir"), help: "Also look for task plugins in DIR (repeatable).")
    var taskDirectories: [String] = []
    @Option(help: "The control socket's path.") var socket: String?
    @Option(help: "The group allowed to use the control socket besides root.") var socketGroup: String?
    @Option(help: "An output: stdout[:compact] or file:/PATH[:compact] (repeatable).") var output: [String] = []
    @Option(name: .customLong("ring-buffer-mb"), parsing: .unconditional, help: "Kernel ring buffer size in MiB (default: a 64th of the memory, 16 to 256).") var ringBufferMegabytes: Int?
    @Option(parsing: .unconditional, help: "Bytes captured of write/send buffers.") var bufferLimit: Int?
    @Option(parsing: .unconditional, help: "Records buffered per live stream reader.") var streamBuffer: Int?
    @Option(name: .customLong("call-deadline-ms"), parsing: .unconditional, help: "Milliseconds a call may block before it is published as unfinished.")
    var callDeadlineMilliseconds: Int?
    @Option(name: .customLong("order-window-ms"), parsing: .unconditional, help: "Milliseconds records are held to be put in timestamp order (0-1000).")
    var orderWindowMilliseconds: Int?
    @Option(help: "trace, debug, info, notice, warning, error or critical.") var logLevel: String?
    @Option(name: .customLong("container-socket"), help: "A container runtime's socket, instead of the usual places: a Docker Engine API's, or cri:PATH for a CRI runtime's (repeatable).")
    var containerSockets: [String] = []
    @Option(name: .customLong("container-bundles"), help: "A directory of OCI bundles (a runtime's state) whose annotations name containers and pods, instead of the usual places (repeatable).")
    var containerBundleDirectories: [String] = []

    /// Parses the command line and drops privileges on the main thread, before anything has
    /// started a thread: capabilities are per thread, and new threads inherit their creator's.
    static func main() async {
        occupyClosedStandardDescriptors()
        var parsed: any ParsableCommand
        do { parsed = try parseAsRoot() } catch {
            // One line naming what was wrong, not the usage text (--help goes as ArgumentParser has it).
            guard exitCode(for: error) != .success, !message(for: error).isEmpty else { exit(withError: error) }
            let line = QuotedInput.oneLine(message(for: error))
            FileHandle.standardError.write(Data("tawond: \(line) (see tawond --help)\n".utf8))
            exit(withError: ExitCode(64))
        }
        do {
            guard let command = parsed as? Tawond else {
                try parsed.run()  // --help: ArgumentParser's help command prints it
                return
            }
            let configuration = try command.settings()
            let privileges = Result { try PrivilegeDrop.apply(keeping: requiredCapabilities(configuration)) }
            try await command.serve(configuration, privileges: privileges)
        } catch {
            // What kept tawond from starting, as one line (not ArgumentParser's "Error:" form).
            let code = exitCode(for: error)
            let text = message(for: error)
            guard code != .success, !(error is ExitCode), !text.isEmpty else { exit(withError: error) }
            FileHandle.standardError.write(Data("tawond: \(QuotedInput.oneLine(text, limit: 2000))\n".utf8))
            exit(withError: code)
        }
    }

    func run() async throws {
        let configuration = try settings()
        try await serve(configuration, privileges: Result { try PrivilegeDrop.apply(keeping: Self.requiredCapabilities(configuration)) })
    }

    func serve(_ configuration: DaemonConfiguration, privileges: Result<[String], any Error>) async throws {
        // A log or output pipe whose reader went away loses what is written to it; the daemon
        // (and every directive it runs) lives on.
        signal(SIGPIPE, SIG_IGN)
        let level = configuration.logLevel
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "tawond")
        switch privileges {
        case .success(let kept):
            logger.notice("dropped every capability but \(kept.joined(separator: ", "))")
        case .failure(let error):
            logger.warning("could not drop capabilities: \(error)")
        }
        LibbpfLog.install(logger)
        let catalog = PluginLoader(
            searchPath: .standard(configuredDirectories: configuration.taskDirectories), probe: .besideExecutable(),
            logger: Logger(label: "tawon.plugins")
        ).loadAll()
        let daemon = try Daemon(configuration: configuration, catalog: catalog, logger: logger)
        let group = try SocketFile.prepare(configuration.socketPath, group: configuration.socketGroup)
        let app = Application(
            router: ControlAPI.router(daemon: daemon, group: group),
            configuration: .init(address: .unixDomainSocket(path: configuration.socketPath), serverName: "tawond"),
            onServerRunning: { _ in
                SocketFile.restrict(configuration.socketPath, group: group)
                logger.notice(
                    "tawond ready",
                    metadata: ["socket": "\(configuration.socketPath)", "tasks": "\(catalog.tasks.map(\.name))"])
            },
            logger: logger)
        // Shut down in reverse: live streams end first (the control API waits for its
        // connections), then the API, then tracing. A connection whose reader stopped reading
        // is cut when the graceful shutdown runs out of time.
        var groupConfiguration = ServiceGroupConfiguration(
            services: [
                .init(service: TracingService(daemon: daemon)), .init(service: app),
                .init(service: LiveStreamsService(daemon: daemon)),
            ],
            gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        groupConfiguration.maximumGracefulShutdownDuration = .seconds(3)
        // Past this the service group kills the process with a trap (SIGILL): it must outlast
        // the tracing service's bounded close (5 s), which a loaded machine may need in full.
        groupConfiguration.maximumCancellationDuration = .seconds(10)
        let services = ServiceGroup(configuration: groupConfiguration)
        try await services.run()
        unlink(configuration.socketPath)
        logger.notice("tawond stopped")
    }

    /// What tawond's work needs, and nothing more (see PrivilegeDrop.required).
    static func requiredCapabilities(_ configuration: DaemonConfiguration) -> [Int32] {
        PrivilegeDrop.required(socketGroup: !configuration.socketGroup.isEmpty).map(\.capability)
    }

    /// The file's settings with the flags applied.
    func settings() throws -> DaemonConfiguration {
        do {
            var settings = try DaemonConfiguration.load(path: config ?? DaemonConfiguration.defaultPath, required: config != nil)
            settings.taskDirectories += taskDirectories
            if let socket { settings.socketPath = socket }
            if let socketGroup { settings.socketGroup = socketGroup }
            if !output.isEmpty { settings.outputs = try output.map(DaemonConfiguration.output(flag:)) }
            if let ringBufferMegabytes { settings.ringBufferMegabytes = ringBufferMegabytes }
            if let bufferLimit { settings.bufferLimit = bufferLimit }
            if let streamBuffer { settings.streamBufferRecords = streamBuffer }
            if let callDeadlineMilliseconds { settings.callDeadlineMilliseconds = callDeadlineMilliseconds }
            if let orderWindowMilliseconds { settings.orderWindowMilliseconds = orderWindowMilliseconds }
            if !containerSockets.isEmpty { settings.containerSockets = containerSockets }
            if !containerBundleDirectories.isEmpty { settings.containerBundleDirectories = containerBundleDirectories }
            if let logLevel {
                guard let level = Logger.Level(rawValue: logLevel) else {
                    throw DaemonConfiguration.Problem("--log-level: \(logLevel) is not a log level")
                }
                settings.logLevel = level
            }
            try settings.validate()
            _ = try SocketFile.groupID(settings.socketGroup)
            return settings
        } catch {
            throw usageFailure("\(error)")
        }
    }
}

/// The control socket's file: its directory made, a stale socket removed, and once bound, mode
/// 0660 owned by root and the configured group.
enum SocketFile {
    static func prepare(_ path: String, group name: String) throws -> gid_t? {
        let directory = (path as NSString).deletingLastPathComponent
        try FileManager.default.createDirectory(
            atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        var status = stat()
        if lstat(path, &status) == 0 {
            guard status.st_mode & S_IFMT == S_IFSOCK else {
                throw usageFailure("\(path) exists and is not a socket")
            }
            // A live daemon answers on it: leave it alone. A stream socket nobody listens on
            // (connection refused) is what a killed daemon left behind: take it. Anything else,
            // such as a live datagram socket of another program, is not ours to remove.
            switch UnixSocketProbe.probe(path) {
            case .answered(let holder):
                throw startFailure("\(path) is held by a running daemon (pid \(holder)); not taking it over")
            case .failed(_, errno: ECONNREFUSED):
                unlink(path)
            case .failed(let reason, _):
                throw startFailure("\(path) is a socket tawond cannot tell is left over (\(reason)); not taking it over")
            }
        }
        do { return try groupID(name) } catch { throw usageFailure("\(error)") }
    }

    /// The socket group's id; nil for none (root only).
    static func groupID(_ name: String) throws(DaemonConfiguration.Problem) -> gid_t? {
        guard !name.isEmpty else { return nil }
        guard let group = getgrnam(name) else {
            throw DaemonConfiguration.Problem("socketGroup (--socket-group): no group named '\(QuotedInput.quote(name))'")
        }
        return group.pointee.gr_gid
    }

    static func restrict(_ path: String, group: gid_t?) {
        chown(path, 0, group ?? 0)
        chmod(path, 0o660)
    }
}

/// A command line or configuration that cannot be used: one line on standard error, exit
/// status 64.
func usageFailure(_ message: String) -> ExitCode {
    FileHandle.standardError.write(Data("tawond: \(message)\n".utf8))
    return ExitCode(64)
}

/// A sound configuration that cannot be served now (its socket is another's): one line on
/// standard error, exit status 1.
func startFailure(_ message: String) -> ExitCode {
    FileHandle.standardError.write(Data("tawond: \(message)\n".utf8))
    return .failure
}
