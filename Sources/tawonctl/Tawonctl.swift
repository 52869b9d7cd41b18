import ArgumentParser
import Foundation
import Host
import Logging

@main
struct Tawonctl: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tawonctl",
        abstract: "Control tawon: directives in tawond, embedded tracing, tasks, status and health.",
        discussion: """
            Exit status: 0 success; 1 failure (tawond refused the request or cannot be reached, \
            tracing could not start, unhealthy); 64 a bad command line.
            Shell completion: tawonctl --generate-completion-script bash|zsh|fish.
            """,
        subcommands: [
            DirectiveCommand.self, RunCommand.self, StatusCommand.self, HealthCommand.self, TaskCommand.self,
            ProbePluginCommand.self,
        ])

    /// A command line that does not parse gets one line naming what was wrong, not the usage
    /// text; --help and what the commands themselves throw go as ArgumentParser has them.
    static func main() async {
        occupyClosedStandardDescriptors()
        var command: any ParsableCommand
        do { command = try parseAsRoot() } catch {
            guard exitCode(for: error) != .success, !message(for: error).isEmpty else { exit(withError: error) }
            // Quoted: what a user passed may hold a terminal's escapes, or be huge.
            let line = QuotedInput.oneLine(message(for: error))
            printToStandardError("tawonctl: \(line) (see tawonctl --help)")
            exit(withError: ExitCode(64))
        }
        do {
            if var asynchronous = command as? any AsyncParsableCommand {
                try await asynchronous.run()
            } else {
                try command.run()
            }
        } catch {
            // A command's own failure is one line like every other tawonctl message, not
            // ArgumentParser's "Error:" form; an exit code or --help goes through unchanged.
            let code = exitCode(for: error)
            let text = message(for: error)
            guard code != .success, !(error is ExitCode), !text.isEmpty else { exit(withError: error) }
            printToStandardError("tawonctl: \(QuotedInput.oneLine(text, limit: 2000))")
            exit(withError: code)
        }
    }
}

/// Options every command that loads plugins shares.
struct PluginOptions: ParsableArguments {
    @Option(name: .customLong("task-dir"), help: "Also look for task plugins in DIR (repeatable).")
    var taskDirectories: [String] = []

    func loadCatalog() -> TaskCatalog {
        var logger = Logger(label: "tawon.plugins")
        logger.logLevel = .error  // refusals are shown in the command's own output
        return PluginLoader(
            searchPath: .standard(configuredDirectories: taskDirectories), probe: .besideExecutable(), logger: logger
        ).loadAll()
    }
}

/// Logs to standard error at `level` and above; libbpf's messages go the same way.
func bootstrapLogging(level: Logger.Level) -> Logger {
    LoggingSystem.bootstrap { label in
        var handler = StreamLogHandler.standardError(label: label)
        handler.logLevel = level
        return handler
    }
    let logger = Logger(label: "tawonctl")
    LibbpfLog.install(logger)
    return logger
}

/// Prints a value as indented JSON with sorted keys.
func printJSON(_ value: some Encodable) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    print(String(decoding: try encoder.encode(value), as: UTF8.self))
}
