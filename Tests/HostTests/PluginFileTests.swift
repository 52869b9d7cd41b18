import Foundation
import Host
import Testing

/// Damaged plugin files are refused, never loaded into a crash: each is tried by `tawonctl task
/// list` in a process of its own, so a crash shows as a signal in its exit status.
@Suite("Damaged plugin files", .serialized)
struct PluginFileTests {
    let tawonctl = TestSupport.productsDirectory.appending(path: "tawonctl").path

    /// Lists the tasks with only `file` on the search path; the exit status and the output.
    func list(_ file: String) throws -> (status: Int32, output: String) {
        var environment = ProcessInfo.processInfo.environment
        environment["TAWON_TASK_PATH"] = file
        let result = try TestSupport.run(tawonctl, ["task", "list"], environment: environment)
        return (result.status, result.stdout + result.stderr)
    }

    /// A good C plugin's bytes, and a private directory (mode 0700, root's when run as root).
    func goodPlugin() throws -> (bytes: [UInt8], directory: URL) {
        let directory = try TestSupport.temporaryDirectory("damaged")
        let path = try CPluginBuilder.buildFixture("good", in: directory)
        return ([UInt8](try Data(contentsOf: URL(fileURLWithPath: path))), directory)
    }

    @Test("Truncated every 128 bytes through the headers and at 8 places after: each refused, none crashes")
    func truncated() throws {
        let (bytes, directory) = try goodPlugin()
        defer { try? FileManager.default.removeItem(at: directory) }
        let cuts = Array(stride(from: 0, to: 4096, by: 128)) + stride(from: 4096, to: bytes.count, by: max(1, bytes.count / 8))
        var refused = 0
        for cut in cuts {
            let file = directory.appending(path: "libtawon-task-cut\(cut).so").path
            try Data(bytes.prefix(cut)).write(to: URL(fileURLWithPath: file))
            let (status, output) = try list(file)
            #expect(status < 128, "cut at \(cut): died with signal \(status - 128)")
            if output.contains("REFUSED") && output.contains("libtawon-task-cut\(cut).so") { refused += 1 }
            try FileManager.default.removeItem(atPath: file)
        }
        #expect(refused == cuts.count, "\(refused) of \(cuts.count) truncated files refused")
    }

    @Test("72 files with one byte flipped (a fixed seed): none crashes the loader")
    func flippedBytes() throws {
        let (bytes, directory) = try goodPlugin()
        defer { try? FileManager.default.removeItem(at: directory) }
        var generator = SplitMix64(seed: 20_261_123)
        var crashed: [String] = []
        for index in 0..<72 {
            var damaged = bytes
            // Half in the headers the loader reads first, half anywhere.
            let position = Int(generator.next() % UInt64(index % 2 == 0 ? min(4096, bytes.count) : bytes.count))
            damaged[position] ^= UInt8(truncatingIfNeeded: generator.next() | 1)
            let file = directory.appending(path: "libtawon-task-flip\(index).so").path
            try Data(damaged).write(to: URL(fileURLWithPath: file))
            let (status, _) = try list(file)
            if status >= 128 { crashed.append("byte \(position): signal \(status - 128)") }
            try FileManager.default.removeItem(atPath: file)
        }
        #expect(crashed.isEmpty, "\(crashed.count) of 72 crashed: \(crashed)")
    }

    @Test("A FIFO named like a plugin is refused at once, not opened")
    func fifo() throws {
        let directory = try TestSupport.temporaryDirectory("fifo")
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appending(path: "libtawon-task-fifo.so").path
        try #require(mkfifo(file, 0o600) == 0)
        let start = ContinuousClock.now
        let (status, output) = try list(directory.path)
        #expect(ContinuousClock.now - start < .seconds(5))
        #expect(status == 0)
        #expect(output.contains("not a regular file"))
    }
}

/// A small deterministic generator (SplitMix64) for reproducible damage.
struct SplitMix64 {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
