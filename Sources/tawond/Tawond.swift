import ArgumentParser
import Foundation
import Host
import Logging

/// The tawon daemon. For now it loads the task plugins, reports them, and runs until SIGTERM or
/// SIGINT; the control API and directives arrive with the daemon issue.
@main
struct Tawond: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tawond", abstract: "The tawon host agent daemon.")

    @Option(name: .customLong("task-dir"), help: "Also look for task plugins in DIR (repeatable).")
    var taskDirectories: [String] = []

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: Logger.Level = .info

    func run() throws {
        let level = logLevel
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "tawond")
        LibbpfLog.install(logger)
        let catalog = PluginLoader(
            searchPath: .standard(configuredDirectories: taskDirectories),
            logger: Logger(label: "tawon.plugins")
        ).loadAll()
        logger.notice(
            "tawond ready",
            metadata: ["tasks": "\(catalog.tasks.map(\.name))", "refused": "\(catalog.refusals.count)"])
        let signal = SignalWaiter.wait(for: [SIGTERM, SIGINT])
        logger.notice("tawond stopping", metadata: ["signal": "\(signal)"])
    }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}

/// Blocks the given signals and waits for one of them.
enum SignalWaiter {
    static func wait(for signals: [Int32]) -> Int32 {
        var set = sigset_t()
        sigemptyset(&set)
        for signal in signals { sigaddset(&set, signal) }
        pthread_sigmask(SIG_BLOCK, &set, nil)
        var received: Int32 = 0
        sigwait(&set, &received)
        return received
    }
}
