import ArgumentParser
import Foundation
import Host
import Logging

/// `tawonctl probe-plugin FILE`: loads one plugin file and exits, for the host's loader to learn
/// in a process of its own whether loading it crashes (see PluginProbe). Not for people.
struct ProbePluginCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "probe-plugin", abstract: "Load one plugin file in this process and exit (used by the loader).",
        shouldDisplay: false)

    @Argument(help: "The plugin file.") var file: String

    func run() throws {
        var logger = Logger(label: "tawon.plugins")
        logger.logLevel = .critical
        do {
            _ = try PluginLoader(searchPath: PluginSearchPath(entries: []), logger: logger).load(file)
        } catch {
            printToStandardError("\(error)")
            throw ExitCode(1)
        }
    }
}
