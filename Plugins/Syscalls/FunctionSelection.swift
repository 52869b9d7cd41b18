import Foundation
import SyscallTable
import TawonTaskKit

/// Which syscalls a directive hooks, from its `functions` and `capabilities` options.
struct FunctionSelection: Equatable {
    private(set) var functionIDs: [UInt64] = []

    init(options: TaskOptions) throws {
        var names: [String] = []
        let functions = options.string("functions")
        let capabilities = options.string("capabilities")
        if functions.isEmpty && capabilities.isEmpty {
            throw TaskError("set functions (e.g. functions:read+write) or capabilities"
                + " (e.g. capabilities:CAP_NET_RAW)")
        }
        if !functions.isEmpty { names += try Self.functionNames(functions) }
        if !capabilities.isEmpty { names += try Self.presetFunctions(capabilities) }
        var seen = Set<UInt64>()
        for name in names {
            let id = UInt64(SyscallTable.signature(named: name)!.number)
            if seen.insert(id).inserted { functionIDs.append(id) }
        }
    }

    static func functionNames(_ text: String) throws -> [String] {
        let names = text.split(separator: "+", omittingEmptySubsequences: false)
            .map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
        if names.contains(where: { $0.uppercased() == "ALL" }) {
            if names.count > 1 {
                throw TaskError("functions: ALL hooks every syscall; list no others beside it")
            }
            return SyscallTable.all(.x86_64).map(\.name)
        }
        for name in names where SyscallTable.signature(named: name) == nil {
            throw TaskError(unknownFunctionMessage(name))
        }
        return names
    }

    static func presetFunctions(_ text: String) throws -> [String] {
        try text.split(separator: "+", omittingEmptySubsequences: false).flatMap { part in
            let name = part.trimmingCharacters(in: .whitespaces).uppercased()
            guard let preset = SyscallsRegistration.capabilityPresets.first(where: { $0.name == name })
            else {
                let known = SyscallsRegistration.capabilityPresets.map(\.name).joined(separator: ", ")
                throw TaskError("capabilities: unknown capability '\(part)' (supported: \(known))")
            }
            return preset.functions
        }
    }

    static func unknownFunctionMessage(_ name: String) -> String {
        if name.isEmpty { return "functions: an empty name (two '+' in a row?)" }
        let suggestion = NameSuggestion.closest(to: name, among: SyscallTable.all(.x86_64).map(\.name))
        return "functions: unknown syscall '\(name)'"
            + (suggestion.map { " (did you mean '\($0)'?)" } ?? "")
    }
}
