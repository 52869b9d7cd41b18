import Synchronization

/// One stream reader's bounded buffer of lines. The output stage adds to it without waiting;
/// the reader's connection takes everything buffered at once and writes it in one piece, so a
/// fast stream costs one write per batch rather than one per line.
final class LineBuffer: Sendable {
    enum Offer { case enqueued, dropped, finished }

    private struct State {
        var lines: [String] = []
        var finished = false
        /// The reader's connection, waiting for a line (only while `lines` is empty).
        var waiter: CheckedContinuation<[String]?, Never>?
    }

    private let capacity: Int
    private let state = Mutex(State())

    init(capacity: Int) {
        self.capacity = capacity
    }

    /// Adds `line` unless the buffer is full (the newest line is dropped: what the reader gets
    /// stays a gap-free run up to the drop) or finished.
    func offer(_ line: String) -> Offer {
        let (offer, waiter) = state.withLock { state -> (Offer, CheckedContinuation<[String]?, Never>?) in
            if state.finished { return (.finished, nil) }
            if let waiter = state.waiter {
                state.waiter = nil
                return (.enqueued, waiter)
            }
            guard state.lines.count < capacity else { return (.dropped, nil) }
            state.lines.append(line)
            return (.enqueued, nil)
        }
        waiter?.resume(returning: [line])
        return offer
    }

    /// No more lines: what is buffered can still be taken. Opens `ended`.
    func finish() {
        let waiter = state.withLock { state -> CheckedContinuation<[String]?, Never>? in
            state.finished = true
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume(returning: nil)
        ended.open()
    }

    /// Open once `finish` has been called.
    let ended = Latch()

    /// Ends the buffer and empties it; the lines that were in it.
    func discard() -> [String] {
        finish()
        return state.withLock { state in
            defer { state.lines = [] }
            return state.lines
        }
    }

    /// Every buffered line, after waiting for at least one; nil once finished and empty, or
    /// when the calling task is cancelled.
    func take() async -> [String]? {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<[String]?, Never>) in
                let ready = state.withLock { state -> [String]?? in
                    if !state.lines.isEmpty {
                        defer { state.lines = [] }
                        return .some(state.lines)
                    }
                    if state.finished || Task.isCancelled { return .some(nil) }
                    state.waiter = continuation
                    return .none
                }
                if let ready { continuation.resume(returning: ready) }
            }
        } onCancel: {
            let waiter = state.withLock { state -> CheckedContinuation<[String]?, Never>? in
                defer { state.waiter = nil }
                return state.waiter
            }
            waiter?.resume(returning: nil)
        }
    }
}

/// Opened once; lets every waiter, present and future, go on.
final class Latch: Sendable {
    private struct State {
        var isOpen = false
        var waiters: [UInt64: CheckedContinuation<Void, Never>] = [:]
        var nextWaiter: UInt64 = 0
    }

    private let state = Mutex(State())

    var isOpen: Bool { state.withLock { $0.isOpen } }

    func open() {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.isOpen = true
            defer { state.waiters = [:] }
            return Array(state.waiters.values)
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Returns once the latch is open, or when the calling task is cancelled.
    func wait() async {
        let id = state.withLock { state -> UInt64 in
            state.nextWaiter += 1
            return state.nextWaiter
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let goOn = state.withLock { state -> Bool in
                    if state.isOpen || Task.isCancelled { return true }
                    state.waiters[id] = continuation
                    return false
                }
                if goOn { continuation.resume() }
            }
        } onCancel: {
            state.withLock { $0.waiters.removeValue(forKey: id) }?.resume()
        }
    }
}
