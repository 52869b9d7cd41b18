import CLibCap
import Foundation

/// Capability names and numbers, through libcap (so new capabilities need no change here).
public enum CapabilityNames {
    /// Names indexed by number, upper case ("CAP_NET_RAW"), for every capability this system's
    /// libcap and kernel know.
    public static let all: [String] = {
        let count = max(Int(cap_max_bits()), 41)
        return (0..<count).map { name(of: $0) }
    }()

    /// The name of capability `number`, e.g. "CAP_CHOWN"; libcap answers unknown numbers with
    /// the number itself.
    public static func name(of number: Int) -> String {
        guard let text = cap_to_name(cap_value_t(number)) else { return "\(number)" }
        defer { cap_free(text) }
        return String(cString: text).uppercased()
    }

    /// The number of a capability name, in any case ("CAP_NET_RAW", "cap_net_raw"), or nil.
    public static func number(of name: String) -> Int? {
        var value: cap_value_t = 0
        guard name.lowercased().hasPrefix("cap_"), cap_from_name(name.lowercased(), &value) == 0 else {
            return nil
        }
        return Int(value)
    }

    /// The names of the capabilities set in `mask`.
    public static func names(in mask: UInt64) -> [String] {
        (0..<min(all.count, 64)).filter { mask & (1 << UInt64($0)) != 0 }.map { all[$0] }
    }
}
