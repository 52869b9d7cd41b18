import Logging
import Synchronization

/// Whether a runtime has stopped answering: the log says so once when it stops, and once when
/// it answers again, however often the source tries meanwhile.
final class RuntimeOutage: Sendable {
    private let down = Mutex(false)

    func failed(_ source: String, _ error: any Error, logger: Logger) {
        guard !down.withLock({ down in defer { down = true }; return down }) else { return }
        logger.warning("\(source): \(error); trying again every 10 s at most: containers made meanwhile are described once it answers")
    }

    func answered(_ source: String, logger: Logger) {
        guard down.withLock({ down in defer { down = false }; return down }) else { return }
        logger.info("\(source) answers again")
    }
}
