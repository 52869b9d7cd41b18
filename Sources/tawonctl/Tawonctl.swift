import ArgumentParser
import Host
import Logging

@main
struct Tawonctl: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tawonctl",
        abstract: "Control tawon: trace with a directive, list and describe tasks.",
        subcommands: [RunCommand.self, HealthCommand.self, TaskCommand.self])
}

/// Options every command that loads plugins shares.
struct PluginOptions: ParsableArguments {
    @Option(name: .customLong("task-dir"), help: "Also look for task plugins in DIR (repeatable).")
    var taskDirectories: [String] = []

    func loadCatalog() -> TaskCatalog {
        var logger = Logger(label: "tawon.plugins")
        logger.logLevel = .error  // refusals are shown in the command's own output
        return PluginLoader(
            searchPath: .standard(configuredDirectories: taskDirectories), logger: logger
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
