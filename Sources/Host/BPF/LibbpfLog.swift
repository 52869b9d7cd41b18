import CLibBPF
import Foundation
import Logging
import Synchronization

/// Routes libbpf's own messages (verifier logs, relocation notes) into swift-log.
public enum LibbpfLog {
    private static let logger = Mutex<Logger?>(nil)

    /// Installs `logger` as the destination of every libbpf message in this process.
    public static func install(_ logger: Logger) {
        self.logger.withLock { $0 = logger }
        _ = libbpf_set_print(libbpfPrint)
    }

    fileprivate static func write(_ level: libbpf_print_level, _ message: String) {
        guard let logger = logger.withLock({ $0 }) else { return }
        let text = message.trimmingCharacters(in: .whitespacesAndNewlines)
        switch level {
        case LIBBPF_WARN: logger.warning("\(text)", metadata: ["source": "libbpf"])
        case LIBBPF_INFO: logger.info("\(text)", metadata: ["source": "libbpf"])
        default: logger.debug("\(text)", metadata: ["source": "libbpf"])
        }
    }
}

private func libbpfPrint(
    level: libbpf_print_level, format: UnsafePointer<CChar>?, arguments: CVaListPointer?
) -> Int32 {
    guard let format, let arguments else { return 0 }
    var buffer = [CChar](repeating: 0, count: 4096)
    let length = vsnprintf(&buffer, buffer.count, format, arguments)
    let bytes = buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
    LibbpfLog.write(level, String(decoding: bytes, as: UTF8.self))
    return length
}
