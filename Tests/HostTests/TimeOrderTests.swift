import Testing

@testable import Host

/// The time order alone, with records made up: what it releases, in which order, and when.
@Suite("Time order")
struct TimeOrderTests {
    /// A record made up, held as the dispatcher holds one: by an item beside its timestamp.
    private struct Record: Equatable {
        let timestamp: UInt64
        var path = ""
    }

    private static func record(_ timestamp: UInt64, _ path: String = "") -> Record { Record(timestamp: timestamp, path: path) }

    private static func timestamps(_ records: [Record]) -> [UInt64] { records.map(\.timestamp) }

    @Test("Records out of order are released sorted once the window has passed them, equal ones in arrival order")
    func sortsWithinTheWindow() {
        var order = TimeOrder<Record>(windowNanoseconds: 100)
        for (timestamp, path) in [(50, "a"), (10, "b"), (50, "c"), (30, "d"), (10, "e")] {
            #expect(order.add(Self.record(UInt64(timestamp), path), timestamp: UInt64(timestamp)) == nil)
        }
        #expect(order.release(now: 100).isEmpty)  // the window has passed none of them yet
        let released = order.release(now: 150)
        #expect(released.map(\.path) == ["b", "e", "d", "a", "c"])
        #expect(order.isEmpty)
    }

    @Test("A partial release keeps the younger records, and later ones join them in order")
    func partialRelease() {
        var order = TimeOrder<Record>(windowNanoseconds: 100)
        for timestamp: UInt64 in [300, 100, 200] { _ = order.add(Self.record(timestamp), timestamp: timestamp) }
        #expect(Self.timestamps(order.release(now: 300)) == [100, 200])
        #expect(order.count == 1)
        for timestamp: UInt64 in [350, 250] { _ = order.add(Self.record(timestamp), timestamp: timestamp) }
        #expect(Self.timestamps(order.release(now: 1000)) == [250, 300, 350])
    }

    @Test("A record older than one already released comes back at once, to be counted late")
    func lateRecord() {
        var order = TimeOrder<Record>(windowNanoseconds: 10)
        _ = order.add(Self.record(500), timestamp: 500)
        #expect(Self.timestamps(order.release(now: 600)) == [500])
        let late = order.add(Self.record(400), timestamp: 400)
        #expect(late?.timestamp == 400)
        #expect(order.isEmpty)
        #expect(order.add(Self.record(500), timestamp: 500) == nil)  // as old as the last released: not late
    }

    @Test("Everything goes when the source closes, and a batch released whole leaves the order ready for more")
    func releaseAll() {
        var order = TimeOrder<Record>(windowNanoseconds: 1_000_000)
        for timestamp: UInt64 in (1...1000).reversed() { _ = order.add(Self.record(timestamp), timestamp: timestamp) }
        #expect(Self.timestamps(order.release(now: 0, all: true)) == Array(1...1000))
        _ = order.add(Self.record(2000), timestamp: 2000)
        _ = order.add(Self.record(1500), timestamp: 1500)
        #expect(Self.timestamps(order.release(now: 0, all: true)) == [1500, 2000])
    }

    @Test("The record held longest is known after each release: the ring buffer is handed back up to it")
    func firstArrivedAfterReleases() {
        var order = TimeOrder<Record>(windowNanoseconds: 100)
        #expect(order.firstArrived() == nil)
        for (timestamp, path) in [(100, "a"), (300, "b"), (200, "c")] {
            _ = order.add(Self.record(UInt64(timestamp), path), timestamp: UInt64(timestamp))
        }
        #expect(order.firstArrived()?.path == "a")
        #expect(order.release(now: 250).map(\.path) == ["a"])
        #expect(order.firstArrived()?.path == "b")  // arrived before c, though younger
        #expect(order.release(now: 350).map(\.path) == ["c"])
        #expect(order.firstArrived()?.path == "b")
        _ = order.release(now: 1000)
        #expect(order.firstArrived() == nil)
        _ = order.add(Self.record(2000, "d"), timestamp: 2000)
        #expect(order.firstArrived()?.path == "d")
    }

    @Test("Spilled records keep their turn; the record held longest is then the first to arrive after the spill")
    func spillKeepsTheOrder() {
        var order = TimeOrder<Record>(windowNanoseconds: 100)
        for (timestamp, path) in [(300, "a"), (100, "b")] {
            _ = order.add(Self.record(UInt64(timestamp), path), timestamp: UInt64(timestamp))
        }
        order.spill { Record(timestamp: $0.timestamp, path: $0.path + "'") }
        #expect(order.firstArrived() == nil)
        _ = order.add(Self.record(200, "c"), timestamp: 200)
        _ = order.add(Self.record(150, "d"), timestamp: 150)
        #expect(order.firstArrived()?.path == "c")
        #expect(order.release(now: 260).map(\.path) == ["b'", "d"])
        #expect(order.firstArrived()?.path == "c")
        order.spill { Record(timestamp: $0.timestamp, path: $0.path + "'") }  // only c: a' was spilled once
        #expect(order.release(now: 1000).map(\.path) == ["c'", "a'"])
        #expect(order.firstArrived() == nil)
        _ = order.add(Self.record(2000, "e"), timestamp: 2000)
        #expect(order.firstArrived()?.path == "e")
    }
}
