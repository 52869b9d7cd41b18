import ArgumentParser
import Foundation
import Synchronization
import Host

/// Options to reach the daemon.
struct DaemonOptions: ParsableArguments {
    @Option(help: "tawond's control socket.") var socket = DaemonClient.defaultSocket

    var client: DaemonClient { DaemonClient(socketPath: socket) }
}

/// `tawonctl directive` (`d`): directives in the daemon.
struct DirectiveCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "directive", abstract: "Directives in tawond: subscribe, unsubscribe, list.",
        subcommands: [Subscribe.self, Unsubscribe.self, List.self], aliases: ["d"])

    struct Subscribe: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "sub", abstract: "Create a directive and stream its events until Ctrl-C, then remove it.",
            discussion: """
                Examples:
                  tawonctl d sub -c "process.capeff:CAP_NET_RAW AND pod.namespace:default" -t "syscalls|capabilities:CAP_NET_RAW"
                  tawonctl d sub -c "process.name:curl" -t "syscalls|functions:ALL" --output compact
                  echo "read+write" | tawonctl d sub -c "process.name:cat" -t "syscalls|functions:@-"
                  tawonctl d sub --detach -c "process.name:*" -t "syscalls|functions:chown;demo:cap_chown"
                """)

        @Option(name: .customShort("c"), parsing: .unconditional, help: "Whose syscalls: a condition such as \"process.name:curl\".")
        var conditions = ""
        @Option(name: .customShort("t"), parsing: .unconditionalSingleValue, help: "A task and its options: \"TASK|name:value;name:value\" (repeatable).")
        var tasks: [String] = []
        @Option(help: "json (one envelope per line) or compact (strace-like lines).") var output: OutputFormat = .json
        @Flag(help: "Leave the directive running and print its ID.") var detach = false
        @OptionGroup var daemon: DaemonOptions

        func run() async throws {
            let expanded = try tasks.map { text in
                do {
                    let spec = try FunctionFileExpansion.expand(try TaskSpec.parse(text))
                    return spec.taskName + (spec.options.isEmpty ? "" : "|" + spec.options.map { "\($0.name):\($0.value)" }.joined(separator: ";"))
                } catch { throw usageFailure("\(error)") }
            }
            let client = daemon.client
            if detach {
                let directive = try await client.createDirective(DirectiveCreation(conditions: conditions, tasks: expanded))
                for warning in directive.warnings { printToStandardError("tawonctl: warning: \(warning)") }
                print(directive.id)
                return
            }
            // Signals are taken before the directive exists: one that came between its creation and
            // its stream would otherwise end this process and leave the directive behind.
            // A closed output ends the stream with an error to handle, not the process.
            signal(SIGPIPE, SIG_IGN)
            let creation = DirectiveCreation(conditions: conditions, tasks: expanded, ownedByStream: true)
            let created = Mutex<String?>(nil)
            let streaming = CancellableWork()
            let stop = SignalCancellation(signals: [SIGINT, SIGTERM, SIGHUP]) { streaming.cancel() }
            let standardOutput = StandardOutput()
            let outcome = await streaming.run {
                let directive = try await client.createDirective(creation)
                created.withLock { $0 = directive.id }
                for warning in directive.warnings { printToStandardError("tawonctl: warning: \(warning)") }
                printToStandardError("tawonctl: streaming directive \(directive.id) (Ctrl-C to stop and remove it)")
                // The daemon removes the directive when this stream ends, even if this process is killed.
                // Records go out as they came, many lines to a write: at 100k lines a second a
                // write per line would fall behind, and the daemon drop what this reader misses.
                try await client.stream(
                    directive.id, format: output, removeOnClose: true,
                    lines: { lines in try standardOutput.write(lines) },
                    // The daemon's empty lines are when to see whether our reader is still
                    // there, when there is nothing to write.
                    quiet: { if OutputClosed.readerGone(STDOUT_FILENO) { throw OutputClosed() } })
            }
            stop.cancel()
            if let id = created.withLock({ $0 }) { try? await client.removeDirective(id) }
            if case .failure(let error as OutputFailed) = outcome { throw error }
            // A reader that has had enough (`| head -1`) is not an error.
            if case .failure(let error) = outcome, !(error is CancellationError), !(error is OutputClosed),
                !Task.isCancelled, !stop.fired {
                throw error
            }
        }
    }

    struct Unsubscribe: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "unsub", abstract: "Remove a directive.")
        @Argument(help: "The directive's ID.") var id: String
        @OptionGroup var daemon: DaemonOptions

        func run() async throws { try await daemon.client.removeDirective(id) }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List the directives.")
        @Flag(help: "Print JSON.") var json = false
        @OptionGroup var daemon: DaemonOptions

        func run() async throws {
            let directives = try await daemon.client.directives()
            if json {
                try printJSON(directives)
                return
            }
            var table = TextTable(["ID", "TASKS", "FUNCTIONS", "CONDITIONS"])
            for directive in directives {
                table.add([directive.id, directive.tasks.joined(separator: ","), "\(directive.functions.count)", directive.conditions])
            }
            print(table.render())
        }
    }
}

/// Cancels something when one of the signals arrives (the signals are then handled, not fatal).
final class SignalCancellation: @unchecked Sendable {
    private var sources: [any DispatchSourceSignal] = []
    private(set) var fired = false

    init(signals: [Int32], action: @escaping @Sendable () -> Void) {
        for number in signals {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { [weak self] in
                self?.fired = true
                action()
            }
            source.resume()
            sources.append(source)
        }
    }

    func cancel() { sources.forEach { $0.cancel() } }
}

/// Work that a signal may cancel before it has even started.
final class CancellableWork: Sendable {
    private let state = Mutex<(task: Task<Void, any Error>?, cancelled: Bool)>((nil, false))

    func cancel() {
        state.withLock { state in
            state.cancelled = true
            state.task?.cancel()
        }
    }

    func run(_ body: @escaping @Sendable () async throws -> Void) async -> Result<Void, any Error> {
        let task = state.withLock { state -> Task<Void, any Error>? in
            guard !state.cancelled else { return nil }
            let task = Task { try await body() }
            state.task = task
            return task
        }
        guard let task else { return .failure(CancellationError()) }
        return await task.result
    }
}

/// Standard output, written so that a cancellation (Ctrl-C) is seen within 0.1 s even while the
/// reader of a pipe has stopped reading: a plain write would block until it reads again.
struct StandardOutput: Sendable {
    let descriptor = STDOUT_FILENO
    /// A file or /dev/null: a write returns at once, whole.
    let neverWaits = descriptorWritesWithoutWaiting(STDOUT_FILENO)

    func write(_ bytes: UnsafeRawBufferPointer) throws {
        guard let base = bytes.baseAddress else { return }
        var written = 0
        while written < bytes.count {
            var size = bytes.count - written
            if !neverWaits {
                var entry = pollfd(fd: descriptor, events: Int16(POLLOUT), revents: 0)
                let ready = poll(&entry, 1, 100)
                if Task.isCancelled { throw CancellationError() }
                if ready == 0 || (ready < 0 && errno == EINTR) { continue }
                // Room for PIPE_BUF bytes is what a pipe ready for writing promises.
                size = min(size, Int(PIPE_BUF))
            }
            let result = Glibc.write(descriptor, base + written, size)
            if result < 0 {
                switch errno {
                case EINTR: continue
                case EPIPE: throw OutputClosed()
                case let error: throw OutputFailed(errno: error)
                }
            }
            written += result
        }
    }
}

/// Writing standard output failed, otherwise than by its reader leaving (a full disk).
struct OutputFailed: Error, CustomStringConvertible {
    let errno: Int32
    var description: String { "writing standard output failed: \(String(cString: strerror(errno)))" }
}

/// Standard output was closed by its reader.
struct OutputClosed: Error {
    /// A pipe whose reading end is closed reports an error to poll on its writing end.
    static func readerGone(_ descriptor: Int32) -> Bool {
        var entry = pollfd(fd: descriptor, events: Int16(POLLOUT), revents: 0)
        return poll(&entry, 1, 0) == 1 && entry.revents & Int16(POLLERR | POLLHUP) != 0
    }
}
