import CTawonBPF

/// The common header every kernel record starts with (`struct tawon_record_header`).
struct RecordHeader {
    static let size = MemoryLayout<tawon_record_header>.size

    let kind: UInt16
    /// Bytes in the whole record, as the program says.
    let recordSize: UInt32

    /// Reads the header of `raw`; nil when the record is too short for one or says it is
    /// longer than the bytes the ring buffer gave.
    init?(_ raw: UnsafeRawBufferPointer) {
        guard raw.count >= Self.size else { return nil }
        kind = raw.loadUnaligned(fromByteOffset: MemoryLayout<tawon_record_header>.offset(of: \.kind)!, as: UInt16.self)
        recordSize = raw.loadUnaligned(fromByteOffset: MemoryLayout<tawon_record_header>.offset(of: \.size)!, as: UInt32.self)
        guard recordSize >= UInt32(Self.size), Int(recordSize) <= raw.count else { return nil }
    }
}
