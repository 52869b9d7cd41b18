import CTawonBPF
import Foundation

/// Loader for `bpf/selfcheck.bpf.c`: watches one process's calls of one syscall at sys_enter.
///
/// It proves the whole kernel-to-host path (load, CO-RE relocation, attach, ring buffer) with
/// nothing else involved, for tests and for health checks.
public final class SelfcheckProgram {
    /// One observed call.
    public struct Observation: Sendable, Equatable {
        public let tgid: UInt32
        public let tid: UInt32
        public let syscallNumber: UInt32
        public let cpu: UInt32
        public let comm: String
    }

    private let object: BPFObject
    private var reader: RingBufferReader?
    private var observations: [Observation] = []

    /// Loads and attaches the program for `targetTGID`'s calls of `syscallNumber`.
    public init(targetTGID: UInt32, syscallNumber: UInt32) throws {
        object = try BPFObject(.selfcheck)
        try object.configure(
            "selfcheck_config",
            to: selfcheck_config(target_tgid: targetTGID, target_syscall: syscallNumber))
        try object.load()
        try object.attachAll()
        reader = try RingBufferReader(mapDescriptor: try object.mapDescriptor("selfcheck_events")) {
            [unowned self] record in
            self.observations.append(Self.decode(record))
        }
    }

    deinit { close() }

    /// Waits up to `timeout` for at least one observation and returns all collected so far.
    public func awaitObservations(timeout: Duration) throws -> [Observation] {
        let deadline = ContinuousClock.now + timeout
        while observations.isEmpty, ContinuousClock.now < deadline {
            try reader?.poll(timeoutMilliseconds: 50)
        }
        return observations
    }

    /// Records the kernel could not reserve room for.
    public func droppedCount() throws -> UInt64 {
        try object.readGlobal("selfcheck_dropped", as: UInt64.self)
    }

    /// Detaches and unloads everything.
    public func close() {
        reader?.close()
        reader = nil
        object.close()
    }

    private static func decode(_ record: UnsafeRawBufferPointer) -> Observation {
        precondition(record.count >= MemoryLayout<selfcheck_event>.size, "short selfcheck record")
        let event = record.loadUnaligned(as: selfcheck_event.self)
        let comm = withUnsafeBytes(of: event.comm) { bytes in
            String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
        }
        return Observation(
            tgid: event.tgid, tid: event.tid, syscallNumber: event.syscall_nr, cpu: event.cpu,
            comm: comm)
    }
}
