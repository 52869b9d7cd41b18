import ArgumentParser
import Host

struct TaskCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "task", abstract: "Task plugins: list them, describe one.",
        subcommands: [List.self, Describe.self])

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List loaded tasks (name, version, functions, file) and refused plugins.")

        @OptionGroup var plugins: PluginOptions
        @Flag(help: "Print JSON.") var json = false

        func run() throws {
            print(try TaskCatalogReport.list(plugins.loadCatalog(), json: json))
        }
    }

    struct Describe: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show a task's options, capability sets, output schema and functions.")

        @OptionGroup var plugins: PluginOptions
        @Flag(help: "Print JSON.") var json = false
        @Argument(help: "The task's name, as `task list` shows it.") var name: String

        func run() throws {
            let catalog = plugins.loadCatalog()
            guard let task = catalog.task(named: name) else {
                let loaded = catalog.tasks.map(\.name).joined(separator: ", ")
                throw ValidationError("no task named '\(name)' (loaded: \(loaded.isEmpty ? "none" : loaded))")
            }
            print(try TaskCatalogReport.describe(task, json: json))
        }
    }
}
