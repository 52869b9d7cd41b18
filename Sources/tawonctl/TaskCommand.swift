import ArgumentParser
import Host

struct TaskCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "task", abstract: "Task plugins: list them, describe one.",
        subcommands: [List.self, Describe.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List loaded tasks (name, version, functions, file) and refused plugins.")

        @OptionGroup var plugins: PluginOptions
        @Flag(help: "Print JSON.") var json = false
        @Flag(help: "Ask tawond which tasks it loaded, instead of loading them here.") var daemon = false
        @OptionGroup var daemonOptions: DaemonOptions

        func run() async throws {
            if daemon {
                print(try TaskCatalogReport.list(try await daemonOptions.client.tasks(), json: json))
            } else {
                print(try TaskCatalogReport.list(plugins.loadCatalog(), json: json))
            }
        }
    }

    struct Describe: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show a task's options, capability sets, output schema and functions.")

        @OptionGroup var plugins: PluginOptions
        @Flag(help: "Print JSON.") var json = false
        @Argument(help: "The task's name, as `task list` shows it.") var name: String
        @Flag(help: "Ask tawond, instead of loading the plugins here.") var daemon = false
        @OptionGroup var daemonOptions: DaemonOptions

        func run() async throws {
            if daemon {
                print(try TaskCatalogReport.describe(try await daemonOptions.client.task(name), json: json))
                return
            }
            let catalog = plugins.loadCatalog()
            guard let task = catalog.task(named: name) else {
                let loaded = catalog.tasks.map(\.name).joined(separator: ", ")
                throw usageFailure("no task named '\(name)' (loaded: \(loaded.isEmpty ? "none" : loaded))")
            }
            print(try TaskCatalogReport.describe(task, json: json))
        }
    }
}
