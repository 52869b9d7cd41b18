import Testing

@testable import Host

/// The time order alone, with records made up: what it releases, in which order, and when.
@Suite("Time order")
struct TimeOrderTests {
    private static func record(_ timestamp: UInt64, _ path: String = "") -> KernelEvent {
        .cgroup(CgroupRecord(change: .made, path: path, bootNanoseconds: timestamp))
    }

    private static func timestamps(_ events: [KernelEvent]) -> [UInt64] { events.map(\.bootNanoseconds) }

    @Test("Records out of order are released sorted once the window has passed them, equal ones in arrival order")
    func sortsWithinTheWindow() {
        var order = TimeOrder(windowNanoseconds: 100)
        for (timestamp, path) in [(50, "a"), (10, "b"), (50, "c"), (30, "d"), (10, "e")] {
            #expect(order.add(Self.record(UInt64(timestamp), path)) == nil)
        }
        #expect(order.release(now: 100).isEmpty)  // the window has passed none of them yet
        let released = order.release(now: 150)
        #expect(released.map { if case .cgroup(let record) = $0 { record.path } else { "" } } == ["b", "e", "d", "a", "c"])
        #expect(order.isEmpty)
    }

    @Test("A partial release keeps the younger records, and later ones join them in order")
    func partialRelease() {
        var order = TimeOrder(windowNanoseconds: 100)
        for timestamp: UInt64 in [300, 100, 200] { _ = order.add(Self.record(timestamp)) }
        #expect(Self.timestamps(order.release(now: 300)) == [100, 200])
        #expect(order.count == 1)
        for timestamp: UInt64 in [350, 250] { _ = order.add(Self.record(timestamp)) }
        #expect(Self.timestamps(order.release(now: 1000)) == [250, 300, 350])
    }

    @Test("A record older than one already released comes back at once, to be counted late")
    func lateRecord() {
        var order = TimeOrder(windowNanoseconds: 10)
        _ = order.add(Self.record(500))
        #expect(Self.timestamps(order.release(now: 600)) == [500])
        let late = order.add(Self.record(400))
        #expect(late?.bootNanoseconds == 400)
        #expect(order.isEmpty)
        #expect(order.add(Self.record(500)) == nil)  // as old as the last released: not late
    }

    @Test("Everything goes when the source closes, and a batch released whole leaves the order ready for more")
    func releaseAll() {
        var order = TimeOrder(windowNanoseconds: 1_000_000)
        for timestamp: UInt64 in (1...1000).reversed() { _ = order.add(Self.record(timestamp)) }
        #expect(Self.timestamps(order.release(now: 0, all: true)) == Array(1...1000))
        _ = order.add(Self.record(2000))
        _ = order.add(Self.record(1500))
        #expect(Self.timestamps(order.release(now: 0, all: true)) == [1500, 2000])
    }
}
