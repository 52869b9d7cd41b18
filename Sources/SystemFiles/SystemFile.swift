import Glibc

/// Reads files whose size the kernel does not report (procfs, sysfs). Foundation's readers
/// trust the size, or read one page, and return only the first ~4 KiB of /proc/self/maps or of a
/// long /proc/PID/cmdline.
public enum SystemFile {
    /// The whole file, read until end of file; nil when it cannot be opened.
    public static func read(_ path: String) -> [UInt8]? {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        var contents: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16384)
        while true {
            let count = Glibc.read(descriptor, &chunk, chunk.count)
            if count < 0 && errno == EINTR { continue }
            if count < 0 { return nil }
            if count == 0 { return contents }
            contents.append(contentsOf: chunk.prefix(count))
        }
    }

    /// The whole file as UTF-8 text.
    public static func text(_ path: String) -> String? {
        read(path).map { String(decoding: $0, as: UTF8.self) }
    }
}
