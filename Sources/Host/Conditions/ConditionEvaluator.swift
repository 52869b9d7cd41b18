import Foundation

/// Decides whether a condition holds for a process. Three-valued: when capabilities are not
/// known (deciding the kernel's process mask), a capability term is unknown, and the process is
/// watched unless the condition is false whatever its capabilities are. With the capabilities
/// of the very syscall (from the kernel record), the answer is exact.
public enum ConditionEvaluator {
    /// FNM_CASEFOLD: a GNU extension that Glibc's module map does not bring into Swift.
    static let fnmatchCaseFold: Int32 = 1 << 4

    public static func evaluate(
        _ condition: Condition, process: ProcessSnapshot, capabilities: CapabilitySets?
    ) -> Bool? {
        switch condition {
        case .term(let term):
            return evaluate(term, process: process, capabilities: capabilities)
        case .and(let a, let b):
            let left = evaluate(a, process: process, capabilities: capabilities)
            if left == false { return false }
            let right = evaluate(b, process: process, capabilities: capabilities)
            if right == false { return false }
            return left == true && right == true ? true : nil
        case .or(let a, let b):
            let left = evaluate(a, process: process, capabilities: capabilities)
            if left == true { return true }
            let right = evaluate(b, process: process, capabilities: capabilities)
            if right == true { return true }
            return left == false && right == false ? false : nil
        case .not(let a):
            return evaluate(a, process: process, capabilities: capabilities).map { !$0 }
        }
    }

    static func evaluate(_ term: Condition.Term, process: ProcessSnapshot, capabilities: CapabilitySets?) -> Bool? {
        switch term.field {
        case .processPID: return matches(term.pattern, "\(process.pid)")
        case .processName: return matches(term.pattern, process.name)
        case .processCmd: return matches(term.pattern, process.cmd)
        case .processExe: return matches(term.pattern, process.exe)
        case .processCapInh, .processCapPrm, .processCapEff, .processCapBnd, .processCapAmb:
            guard let capabilities else { return nil }
            return matchesCapabilities(term, mask(term.field, capabilities))
        case .containerID:
            if case .exact(let id) = term.pattern {
                return !process.containerID.isEmpty && process.containerID.hasPrefix(id.lowercased())
            }
            return matchesKnown(term.pattern, process.containerID)
        case .containerName, .containerLabel, .podID, .podName, .podNamespace, .podLabel:
            return process.containerPending ? nil : evaluateRuntimeFact(term, process: process)
        }
    }

    /// Terms on what a container runtime says, once it has said it (or said nothing).
    static func evaluateRuntimeFact(_ term: Condition.Term, process: ProcessSnapshot) -> Bool {
        switch term.field {
        case .containerName:
            // Docker's API names a container "/name"; a condition may give it with or without the "/".
            let name = process.containerName
            return matchesKnown(term.pattern, name)
                || (name.hasPrefix("/") && matchesKnown(term.pattern, String(name.dropFirst())))
        case .containerLabel: return matchesLabel(term.pattern, process.containerLabels)
        case .podID: return matchesKnown(term.pattern, process.pod.id)
        case .podName: return matchesKnown(term.pattern, process.pod.name)
        case .podNamespace: return matchesKnown(term.pattern, process.pod.namespace)
        case .podLabel: return matchesLabel(term.pattern, process.pod.labels)
        default: return false
        }
    }

    /// A fact no source supplied matches nothing, not even `*`: a process outside any pod has no
    /// pod name to match.
    static func matchesKnown(_ pattern: Condition.Pattern, _ value: String) -> Bool {
        !value.isEmpty && matches(pattern, value)
    }

    /// A label term matches a label's value, or `key=value`.
    static func matchesLabel(_ pattern: Condition.Pattern, _ labels: [String: String]) -> Bool {
        labels.contains { key, value in matches(pattern, value) || matches(pattern, key + "=" + value) }
    }

    static func mask(_ field: Condition.Field, _ sets: CapabilitySets) -> UInt64 {
        switch field {
        case .processCapInh: return sets.inheritable
        case .processCapPrm: return sets.permitted
        case .processCapEff: return sets.effective
        case .processCapBnd: return sets.bounding
        default: return sets.ambient
        }
    }

    static func matchesCapabilities(_ term: Condition.Term, _ mask: UInt64) -> Bool {
        if case .exact(let name) = term.pattern, let number = CapabilityNames.number(of: name) {
            return number < 64 && mask & (1 << UInt64(number)) != 0
        }
        return CapabilityNames.names(in: mask).contains { matches(term.pattern, $0, caseInsensitive: true) }
    }

    static func matches(_ pattern: Condition.Pattern, _ value: String, caseInsensitive: Bool = false) -> Bool {
        switch pattern {
        case .exact(let text):
            return caseInsensitive ? text.caseInsensitiveCompare(value) == .orderedSame : text == value
        case .glob(let text):
            return fnmatch(text, value, caseInsensitive ? fnmatchCaseFold : 0) == 0
        case .contains(let text):
            return caseInsensitive ? value.range(of: text, options: .caseInsensitive) != nil : value.contains(text)
        }
    }
}
