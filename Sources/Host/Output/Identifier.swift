import Foundation
import Synchronization

/// Globally unique IDs in the form the output uses: 12 bytes (seconds, machine, process,
/// counter) as 20 lowercase base32hex characters, sortable by creation time.
public enum Identifier {
    private static let counter = Atomic<UInt32>(UInt32.random(in: 0..<(1 << 24)))
    private static let machine: [UInt8] = {
        let seed = (try? String(contentsOfFile: "/etc/machine-id", encoding: .utf8)) ?? ProcessInfo.processInfo.hostName
        var hash: UInt32 = 2_166_136_261  // FNV-1a
        for byte in seed.utf8 { hash = (hash ^ UInt32(byte)) &* 16_777_619 }
        return [UInt8(hash >> 16 & 0xFF), UInt8(hash >> 8 & 0xFF), UInt8(hash & 0xFF)]
    }()

    /// A new ID.
    public static func next(now: Date = Date()) -> String {
        let seconds = UInt32(truncatingIfNeeded: Int(now.timeIntervalSince1970))
        let pid = UInt16(truncatingIfNeeded: getpid())
        let count = counter.wrappingAdd(1, ordering: .relaxed).newValue
        let bytes: [UInt8] = [
            UInt8(seconds >> 24), UInt8(seconds >> 16 & 0xFF), UInt8(seconds >> 8 & 0xFF), UInt8(seconds & 0xFF),
        ] + machine + [UInt8(pid >> 8), UInt8(pid & 0xFF), UInt8(count >> 16 & 0xFF), UInt8(count >> 8 & 0xFF),
            UInt8(count & 0xFF)]
        return encode(bytes)
    }

    /// Whether `text` has the form of an ID.
    public static func isValid(_ text: String) -> Bool {
        text.count == 20 && text.allSatisfy { alphabet.contains(UInt8($0.asciiValue ?? 0)) }
    }

    private static let alphabet = Array("0123456789abcdefghijklmnopqrstuv".utf8)

    static func encode(_ bytes: [UInt8]) -> String {
        var output: [UInt8] = []
        var buffer: UInt32 = 0
        var bits = 0
        for byte in bytes {
            buffer = buffer << 8 | UInt32(byte)
            bits += 8
            while bits >= 5 {
                output.append(alphabet[Int(buffer >> UInt32(bits - 5) & 31)])
                bits -= 5
            }
        }
        if bits > 0 { output.append(alphabet[Int(buffer << UInt32(5 - bits) & 31)]) }
        return String(decoding: output, as: UTF8.self)
    }
}

/// Names this installation across restarts: an ID kept in a state file.
public enum InstallationIdentity {
    /// The tawonID, read from `directory/tawon-id` or created there. When the directory cannot be
    /// written (not root), the user's state directory is used instead.
    public static func load(
        directory: String = ProcessInfo.processInfo.environment["TAWON_STATE_DIR"] ?? "/var/lib/tawon"
    ) -> String {
        let fallback = (ProcessInfo.processInfo.environment["HOME"] ?? "/tmp") + "/.local/state/tawon"
        for candidate in [directory, fallback] {
            let path = candidate + "/tawon-id"
            if let text = try? String(contentsOfFile: path, encoding: .utf8),
                Identifier.isValid(text.trimmingCharacters(in: .whitespacesAndNewlines))
            {
                return text.trimmingCharacters(in: .whitespacesAndNewlines)
            }
            let id = Identifier.next()
            if (try? FileManager.default.createDirectory(atPath: candidate, withIntermediateDirectories: true)) != nil,
                (try? (id + "\n").write(toFile: path, atomically: true, encoding: .utf8)) != nil
            {
                return id
            }
        }
        return Identifier.next()
    }
}
