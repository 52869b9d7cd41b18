import Foundation
import SyscallTable
import TawonTaskKit

/// Which syscalls a directive hooks, from its `functions` and `capabilities` options. A name
/// selects the x86_64 syscall and its 32-bit forms (`getuid` also catches `getuid32` and the
/// 16-bit `getuid`); a 32-bit-only name (`mmap2`, `getuid16`) selects just that call.
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
            let ids = [SyscallTable.functionID(named: name)!] + SyscallTable.narrowerForms(of: name)
            for id in ids where seen.insert(id).inserted { functionIDs.append(id) }
        }
    }

    static func functionNames(_ text: String) throws -> [String] {
        let names = text.split(separator: "+", omittingEmptySubsequences: false)
            .map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
        if names.contains(where: { $0.uppercased() == "ALL" }) {
            if names.count > 1 {
                throw TaskError("functions: ALL hooks every syscall; list no others beside it")
            }
            return SyscallTable.functions.map(\.signature.name)
        }
        for name in names where SyscallTable.functionID(named: name) == nil {
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
        // No syscall name is longer than 24 characters; comparing a huge one with each costs seconds.
        guard name.count <= NameSuggestion.longestCompared else {
            return "functions: unknown syscall '\(name.prefix(NameSuggestion.longestCompared))…' (\(name.count) characters)"
        }
        let suggestion = NameSuggestion.closest(to: name, among: SyscallTable.functions.map(\.signature.name))
        return "functions: unknown syscall '\(name)'"
            + (suggestion.map { " (did you mean '\($0)'?)" } ?? "")
    }
}
