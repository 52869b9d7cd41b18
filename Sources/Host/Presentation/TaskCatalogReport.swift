import Foundation

/// What `tawonctl task list` and `task describe` print, as text or JSON, generated from what
/// the plugins registered.
public enum TaskCatalogReport {
    /// What `task list` shows (GET /v1/tasks).
    public struct Listing: Codable, Sendable {
        public struct Task: Codable, Sendable {
            public var name: String
            public var version: String
            public var file: String
            public var functions: Int
            public var abi: String
        }
        public var tasks: [Task]
        public var refused: [PluginRefusal]
    }

    /// What `task describe` shows (GET /v1/tasks/NAME).
    public struct Description: Codable, Sendable {
        public var file: String
        public var abi: String
        public var task: TaskDescription
    }

    /// `task list`: loaded tasks, then refused plugin files with their reasons.
    public static func list(_ catalog: TaskCatalog, json: Bool) throws -> String {
        try list(listing(catalog), json: json)
    }

    public static func list(_ listing: Listing, json: Bool) throws -> String {
        if json { return try encode(listing) }
        var table = TextTable(["NAME", "VERSION", "FUNCTIONS", "FILE"])
        for task in listing.tasks { table.add([task.name, task.version, "\(task.functions)", task.file]) }
        var text = table.render()
        if !listing.refused.isEmpty {
            var refused = TextTable(["REFUSED", "REASON"])
            for refusal in listing.refused { refused.add([refusal.path, refusal.reason]) }
            text += "\n\n" + refused.render()
        }
        return text
    }

    /// `task describe NAME`: functions, capability sets, output schema, options.
    public static func describe(_ task: LoadedTask, json: Bool) throws -> String {
        try describe(Description(file: task.path, abi: "\(task.abiVersion)", task: task.description), json: json)
    }

    public static func describe(_ described: Description, json: Bool) throws -> String {
        if json { return try encode(described) }
        let description = described.task
        var sections = [
            "\(description.name) \(description.version) — \(description.description)\n"
                + "file: \(described.file)\nabi:  \(described.abi)"
        ]
        var options = TextTable(["OPTION", "TYPE", "DEFAULT", "DESCRIPTION"])
        for option in description.options {
            options.add([option.name, option.type.rawValue, option.defaultValue ?? "-", option.description])
        }
        sections.append(options.render())
        var sets = TextTable(["CAPABILITY SET", "FUNCTIONS"])
        for set in description.capabilitySets { sets.add([set.name, set.functions.joined(separator: ", ")]) }
        sections.append(sets.render())
        var fields = TextTable(["OUTPUT FIELD", "TYPE", "DESCRIPTION"])
        for field in description.outputFields { fields.add([field.name, field.type, field.description]) }
        sections.append(fields.render())
        var functions = TextTable(["FUNCTION", "ID", "ARGUMENTS"])
        for function in description.functions {
            let arguments = function.arguments.map { "\($0.type) \($0.name)" }.joined(separator: ", ")
            functions.add([function.name, "\(function.id)", arguments])
        }
        sections.append(functions.render())
        return sections.joined(separator: "\n\n")
    }

    static func listing(_ catalog: TaskCatalog) -> Listing {
        Listing(
            tasks: catalog.tasks.map {
                .init(
                    name: $0.name, version: $0.description.version, file: $0.path,
                    functions: $0.description.functions.count, abi: "\($0.abiVersion)")
            },
            refused: catalog.refusals)
    }

    private static func encode<Value: Encodable>(_ value: Value) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }
}
