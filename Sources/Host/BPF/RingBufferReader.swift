import CLibBPF
import CTawonBPF
import Foundation

/// Drains a BPF ring buffer map, handing each record to `onRecord` on the polling thread.
///
/// The reader maps the ring itself rather than using libbpf's, which hands back each record's
/// space as soon as its handler returns. Every producer reads the reader's position when it
/// reserves, so a position written once per record moves its cache line between the CPUs on
/// every traced call. Space is handed back in batches instead (`releaseBytes`).
///
/// A reader made `holding` lets its owner keep records where they lie after their handler
/// returned (to put them in time order, say) and read them later with `bytes(at:)`: space is
/// handed back only up to the owner's `releasePoint`, the position of the first record it
/// still holds. Nothing is copied out of the ring. The kernel wakes a waiting reader only when
/// it has handed everything back, so an owner copies out what it holds before a wait.
public final class RingBufferReader {
    /// Called with each record and its position; the bytes are valid during the call, and for a
    /// holding reader until its release point has passed the position.
    public typealias RecordHandler = (UnsafeRawBufferPointer, UInt64) -> Void

    /// How many consumed bytes are handed back to the producers at once; also at the end of
    /// every poll. Small beside any ring, large beside a record.
    static let releaseBytes: UInt64 = 128 << 10

    private static let busyBit: UInt32 = 1 << 31
    private static let discardBit: UInt32 = 1 << 30
    private static let recordHeaderSize: UInt64 = 8

    private let onRecord: RecordHandler
    /// The position of the first record the owner still holds (`UInt64.max`: none).
    private let releasePoint: () -> UInt64
    private let pageSize: Int
    private let dataSize: Int
    /// The ring's data bytes.
    var capacity: UInt64 { UInt64(dataSize) }
    private var consumerPage: UnsafeMutableRawPointer?
    private var producerArea: UnsafeMutableRawPointer?
    private var waitDescriptor: Int32 = -1
    /// Where the next record to read starts; the consumer position (what the producers may
    /// overwrite up to) trails it by what the owner holds.
    private(set) var readPosition: UInt64 = 0

    /// Opens a reader on the ring buffer map `mapDescriptor` whose records are done with once
    /// `onRecord` returned.
    public convenience init(mapDescriptor: Int32, onRecord: @escaping (UnsafeRawBufferPointer) -> Void) throws {
        try self.init(mapDescriptor: mapDescriptor, holding: { .max }) { raw, _ in onRecord(raw) }
    }

    /// Opens a reader on the ring buffer map `mapDescriptor` whose owner may hold records past
    /// their handler, up to `releasePoint` (see the type's comment).
    public init(mapDescriptor: Int32, holding releasePoint: @escaping () -> UInt64, onRecord: @escaping RecordHandler) throws {
        self.onRecord = onRecord
        self.releasePoint = releasePoint
        pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))
        var info = bpf_map_info()
        var infoSize = UInt32(MemoryLayout<bpf_map_info>.size)
        try LibbpfCallError.check(bpf_obj_get_info_by_fd(mapDescriptor, &info, &infoSize), "bpf_obj_get_info_by_fd")
        guard info.type == BPF_MAP_TYPE_RINGBUF.rawValue, info.max_entries.nonzeroBitCount == 1 else {
            throw LibbpfCallError("RingBufferReader", errno: EINVAL, subject: "not a ring buffer map")
        }
        dataSize = Int(info.max_entries)

        // The reader's position: the one page the reader writes.
        let consumer = mmap(nil, pageSize, PROT_READ | PROT_WRITE, MAP_SHARED, mapDescriptor, 0)
        guard let consumer, consumer != MAP_FAILED else {
            throw LibbpfCallError("mmap", errno: errno, subject: "ring buffer reader page")
        }
        consumerPage = consumer
        readPosition = consumer.load(as: UInt64.self)
        // The producers' position, then the data mapped twice in a row, so that a record that
        // wraps around the end reads as one piece.
        let producer = mmap(nil, pageSize + 2 * dataSize, PROT_READ, MAP_SHARED, mapDescriptor, off_t(pageSize))
        guard let producer, producer != MAP_FAILED else {
            let error = errno
            close()
            throw LibbpfCallError("mmap", errno: error, subject: "ring buffer data")
        }
        producerArea = producer

        waitDescriptor = ctawon_ring_wait_descriptor(mapDescriptor)
        guard waitDescriptor >= 0 else {
            let error = errno
            close()
            throw LibbpfCallError("epoll_ctl", errno: error, subject: "ring buffer")
        }
    }

    deinit { close() }

    /// Handles available records, at most `maxRecords`, after waiting up to
    /// `timeoutMilliseconds` for a wake-up if none were waiting: under a flood the producers
    /// never let the buffer run empty, and the caller must get control back. Returns how many
    /// were handled.
    @discardableResult
    public func poll(timeoutMilliseconds: Int32, maxRecords: Int = .max) throws -> Int {
        guard waitDescriptor >= 0 else { return 0 }
        // Producers wake the reader only once per batch, so records may wait without a
        // wake-up: they are looked for first, and again when the wait times out.
        if !hasWaitingRecords, ctawon_ring_wait(waitDescriptor, timeoutMilliseconds) < 0, errno != EINTR {
            throw LibbpfCallError("epoll_wait", errno: errno, subject: "ring buffer")
        }
        return consume(maxRecords: maxRecords)
    }

    /// Whether records wait unread (one still being written counts).
    var hasWaitingRecords: Bool {
        guard let producerArea else { return false }
        return Self.committed(producerArea) > readPosition
    }

    /// How much of the ring the records not yet read take: 0 (empty) to 1 (full). Records the
    /// owner holds are read: they wait on time, not on the reader.
    var fill: Double {
        guard let producerArea else { return 0 }
        let unread = Self.committed(producerArea) &- readPosition
        return Double(min(unread, UInt64(dataSize))) / Double(dataSize)
    }

    /// Where the producers have got to: the end of what they reserved.
    private static func committed(_ producerArea: UnsafeMutableRawPointer) -> UInt64 {
        ctawon_load_acquire_u64(producerArea.assumingMemoryBound(to: UInt64.self))
    }

    /// The record at `position` in the data area: its length word (busy and discard bits
    /// included), its bytes, and where the next record starts.
    private func record(at position: UInt64, in data: UnsafeMutableRawPointer)
        -> (length: UInt32, bytes: UnsafeRawBufferPointer, next: UInt64)
    {
        let header = data + Int(position & UInt64(dataSize - 1))
        let length = ctawon_load_acquire_u32(header.assumingMemoryBound(to: UInt32.self))
        let size = UInt64(length & ~(Self.busyBit | Self.discardBit))
        return (length, UnsafeRawBufferPointer(start: header + Int(Self.recordHeaderSize), count: Int(size)),
                position + ((size + Self.recordHeaderSize + 7) & ~7))
    }

    /// Handles the records committed so far, in ring order, up to `maxRecords`; stops at the
    /// first record still being written.
    private func consume(maxRecords: Int) -> Int {
        guard let consumerPage, let producerArea else { return 0 }
        let data = producerArea + pageSize
        var position = readPosition
        var released = consumerPage.load(as: UInt64.self)
        // Where space was last offered back: while the owner holds more than `releaseBytes`,
        // its release point is asked once per `releaseBytes` read, not once per record.
        var offered = position
        var handled = 0
        scan: while handled < maxRecords {
            let committed = Self.committed(producerArea)
            if position >= committed { break }
            while position < committed, handled < maxRecords {
                let record = record(at: position, in: data)
                if record.length & Self.busyBit != 0 { break scan }
                let start = position
                position = record.next
                readPosition = position
                if record.length & Self.discardBit == 0 {
                    onRecord(record.bytes, start)
                    handled += 1
                }
                if position - released >= Self.releaseBytes, position - offered >= Self.releaseBytes {
                    released = handBack(upTo: released)
                    offered = position
                }
            }
        }
        _ = handBack(upTo: released)
        return handled
    }

    /// Hands the producers the space of every record read and no longer held.
    func handBack() {
        guard let consumerPage else { return }
        _ = handBack(upTo: consumerPage.load(as: UInt64.self))
    }

    private func handBack(upTo current: UInt64) -> UInt64 {
        guard let consumerPage else { return current }
        let position = min(readPosition, releasePoint())
        guard position > current else { return current }
        ctawon_store_release_u64(consumerPage.assumingMemoryBound(to: UInt64.self), position)
        return position
    }

    /// The bytes of the record at `position`, read before and still held (a holding reader's
    /// owner reads what it held this way). The same bytes `onRecord` was given.
    func bytes(at position: UInt64) -> UnsafeRawBufferPointer {
        guard let producerArea else { return UnsafeRawBufferPointer(start: nil, count: 0) }
        return record(at: position, in: producerArea + pageSize).bytes
    }

    /// How many records wait unread, without handling them: what closing now would lose.
    func unreadRecordCount() -> Int {
        guard let producerArea else { return 0 }
        let data = producerArea + pageSize
        let end = Self.committed(producerArea)
        var position = readPosition
        var count = 0
        while position < end {
            let record = record(at: position, in: data)
            if record.length & Self.discardBit == 0 { count += 1 }
            position = record.next
        }
        return count
    }

    /// Unmaps the ring and stops waiting on it. Safe to call twice.
    public func close() {
        if waitDescriptor >= 0 {
            Glibc.close(waitDescriptor)
            waitDescriptor = -1
        }
        if let producerArea {
            munmap(producerArea, pageSize + 2 * dataSize)
            self.producerArea = nil
        }
        if let consumerPage {
            munmap(consumerPage, pageSize)
            self.consumerPage = nil
        }
    }
}
