import Foundation
import Testing

@testable import Host

/// A stream reader's buffer: taken in batches, bounded, ended, and given up by a cancelled taker.
@Suite("Line buffer")
struct LineBufferTests {
    @Test("Everything buffered is taken at once, in order; past the capacity the newest lines are dropped")
    func batchesAndBound() async {
        let buffer = LineBuffer(capacity: 3)
        #expect(buffer.offer("a") == .enqueued)
        #expect(buffer.offer("b") == .enqueued)
        #expect(buffer.offer("c") == .enqueued)
        #expect(buffer.offer("d") == .dropped)
        #expect(await buffer.take() == ["a", "b", "c"])
        #expect(buffer.offer("e") == .enqueued)
        #expect(await buffer.take() == ["e"])
    }

    @Test("A waiting taker gets the next line; once finished, what is left, then nil, and offers are refused")
    func waitingAndFinished() async {
        let buffer = LineBuffer(capacity: 8)
        let taker = Task { await buffer.take() }
        try? await Task.sleep(for: .milliseconds(50))
        #expect(buffer.offer("x") == .enqueued)
        #expect(await taker.value == ["x"])
        _ = buffer.offer("y")
        buffer.finish()
        #expect(buffer.offer("z") == .finished)
        #expect(await buffer.take() == ["y"])
        #expect(await buffer.take() == nil)
        let late = Task { await buffer.take() }
        #expect(await late.value == nil)
    }

    @Test("Finishing wakes a waiting taker with nil")
    func finishWakesTaker() async {
        let buffer = LineBuffer(capacity: 8)
        let taker = Task { await buffer.take() }
        try? await Task.sleep(for: .milliseconds(50))
        buffer.finish()
        #expect(await taker.value == nil)
    }

    @Test("A cancelled taker stops waiting, whether cancelled before or while it waits; the buffer stays usable")
    func cancelledTaker() async {
        let buffer = LineBuffer(capacity: 8)
        let waiting = Task { await buffer.take() }
        try? await Task.sleep(for: .milliseconds(50))
        waiting.cancel()
        #expect(await waiting.value == nil)
        let early = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            return await buffer.take()
        }
        #expect(await early.value == nil)
        #expect(buffer.offer("after") == .enqueued)
        #expect(await buffer.take() == ["after"])
    }

    @Test("Discarding ends the buffer, opens its end, and gives back what it held")
    func discard() async {
        let buffer = LineBuffer(capacity: 8)
        _ = buffer.offer("a")
        _ = buffer.offer("\n")
        #expect(buffer.discard() == ["a", "\n"])
        await buffer.ended.wait()
        #expect(await buffer.take() == nil)
        #expect(buffer.offer("b") == .finished)
    }

    @Test("A latch lets every waiter go when opened, later ones at once; a cancelled waiter goes too")
    func latch() async {
        let latch = Latch()
        let waiters = (0..<3).map { _ in Task { await latch.wait() } }
        let cancelled = Task { await latch.wait() }
        try? await Task.sleep(for: .milliseconds(50))
        cancelled.cancel()
        await cancelled.value
        #expect(!latch.isOpen)
        latch.open()
        for waiter in waiters { await waiter.value }
        await latch.wait()
        #expect(latch.isOpen)
    }
}
