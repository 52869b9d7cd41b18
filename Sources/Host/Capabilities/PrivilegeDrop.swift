import CLibCap
import Foundation

/// Least privilege for tawond: what its work needs, computed from what it runs, and nothing more
/// in its effective, permitted, inheritable, ambient and bounding sets.
public enum PrivilegeDrop {
    /// Why each capability is kept.
    public static func required(socketGroup: Bool) -> [(capability: Int32, reason: String)] {
        var needed: [(Int32, String)] = [
            (39, "load BPF programs and maps (CAP_BPF)"),
            (38, "attach tracing programs and read kernel memory in them (CAP_PERFMON)"),
            (19, "read /proc/PID/exe and /proc/PID/ns of other users' processes (CAP_SYS_PTRACE)"),
            (2, "read other users' /proc files and plugin directories (CAP_DAC_READ_SEARCH)"),
        ]
        if socketGroup { needed.append((0, "give the control socket to its group (CAP_CHOWN)")) }
        return needed
    }

    /// Keeps only `kept` in every set of the calling thread, and takes the rest out of the
    /// bounding set (no program it starts can regain them). Call it before any other thread
    /// exists: threads inherit their creator's capabilities, and capabilities are per thread.
    /// Returns the names of the capabilities kept.
    @discardableResult
    public static func apply(keeping kept: [Int32]) throws -> [String] {
        let last = lastCapability()
        for capability in 0...last where !kept.contains(capability) {
            // EINVAL: not a capability this kernel has; anything else is a failure.
            if clibcap_prctl(PR_CAPBSET_DROP, UInt(capability), 0, 0, 0) != 0 && errno != EINVAL {
                throw PrivilegeError("PR_CAPBSET_DROP \(capability)", errno)
            }
        }
        _ = clibcap_prctl(PR_CAP_AMBIENT, UInt(PR_CAP_AMBIENT_CLEAR_ALL), 0, 0, 0)
        guard let state = cap_init() else { throw PrivilegeError("cap_init", errno) }
        defer { cap_free(UnsafeMutableRawPointer(state)) }
        var values = kept.map { cap_value_t($0) }
        for flag in [CAP_EFFECTIVE, CAP_PERMITTED] {
            guard cap_set_flag(state, flag, Int32(values.count), &values, CAP_SET) == 0 else {
                throw PrivilegeError("cap_set_flag", errno)
            }
        }
        guard cap_set_proc(state) == 0 else { throw PrivilegeError("cap_set_proc", errno) }
        return kept.sorted().map { CapabilityNames.name(of: Int($0)) }
    }

    /// The capabilities this process holds now, by name, from its effective set.
    public static func held() -> [String] {
        let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
        guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix("CapEff:") }),
            let mask = UInt64(line.dropFirst("CapEff:".count).trimmingCharacters(in: .whitespaces), radix: 16)
        else { return [] }
        return (0..<64).filter { mask & (1 << UInt64($0)) != 0 }.map { CapabilityNames.name(of: $0) }
    }

    private static func lastCapability() -> Int32 {
        let text = (try? String(contentsOfFile: "/proc/sys/kernel/cap_last_cap", encoding: .utf8)) ?? "40"
        return Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 40
    }
}

public struct PrivilegeError: Error, CustomStringConvertible {
    public let description: String
    init(_ call: String, _ code: Int32) {
        description = "\(call) failed: \(String(cString: strerror(code)))"
    }
}
