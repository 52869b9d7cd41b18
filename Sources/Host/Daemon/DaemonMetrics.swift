import Foundation
import Prometheus

/// Prometheus metrics for GET /metrics, each with its help text, brought up to date from the
/// daemon's status at each scrape: its totals, what it holds now, and every queue's bound.
final class DaemonMetrics: @unchecked Sendable {
    let registry = PrometheusCollectorRegistry()
    private let lock = NSLock()
    private var reported: [String: UInt64] = [:]

    /// The text exposition of every metric.
    func render(_ status: DaemonStatus) -> [UInt8] {
        lock.withLock {
            let lost = "Records lost, by cause."
            count("tawon_records_received_total", "Records read from the kernel.", status.events.received)
            count("tawon_records_emitted_total", "Records the tasks emitted; what the outputs lost after is in tawon_records_lost_total.", status.events.emitted)
            count("tawon_records_lost_total", lost, status.drops.ringBufferFull, cause: "ring_buffer_full")
            count("tawon_records_lost_total", lost, status.drops.taskFailures, cause: "task_failure")
            count("tawon_records_lost_total", lost, status.drops.streamReaders, cause: "stream_reader")
            count("tawon_records_lost_total", lost, status.drops.sinkQueueFull, cause: "sink_queue_full")
            count("tawon_records_lost_total", lost, status.drops.sinkWriteFailed, cause: "sink_write_failed")
            count("tawon_records_lost_total", lost, status.drops.awaitingContainer, cause: "awaiting_container")
            count("tawon_records_late_for_order_total", "Records that reached the host later than the time order's window: delivered at once, out of order.", status.drops.lateForOrder)
            count("tawon_unreadable_arguments_total", "Arguments whose memory the kernel could not read.", status.drops.unreadableArguments)
            count("tawon_records_held_undecided_total", "Calls of processes not yet decided about, past the kernel's budget, held back.", status.drops.heldUndecided)
            count("tawon_task_thread_engaged_total", "Times the tasks moved to their second thread because the ring buffer was filling up.", status.queues.taskThreadEngaged)
            gauge("tawon_directives", "Directives running.", status.directives.count)
            gauge("tawon_stream_readers", "Live stream readers.", status.streams.count)
            gauge("tawon_uptime_seconds", "Seconds since tawond started.", status.uptimeSeconds)
            gauge("tawon_records_held_for_order", "Records held now to be put in timestamp order.", status.queues.heldForOrder)
            gauge("tawon_tasks_on_second_thread", "1 while the tasks run on their second thread.", status.queues.tasksOnSecondThread ? 1 : 0)
            let queues = status.queues
            gauge("tawon_ring_buffer_bytes", "The kernel's ring buffer's size.", queues.ringBufferBytes)
            gauge("tawon_order_window_seconds", "How long records are held to be put in timestamp order.", Double(queues.orderWindowMilliseconds) / 1000)
            gauge("tawon_task_thread_batches", "The bound of the tasks' second thread's queue, in batches of a poll's records.", queues.taskThreadBatches)
            gauge("tawon_stream_buffer_records", "The bound of each live stream reader's buffer, in records.", queues.streamBufferRecords)
            gauge("tawon_sink_queue_bytes", "The bound of each output's queue, in bytes.", queues.sinkQueueBytes)
            gauge("tawon_pending_calls_capacity", "Calls awaiting their return at most; past it the oldest is published unfinished.", queues.pendingCalls)
            gauge("tawon_awaiting_container_capacity", "Records held at most for containers not yet described; past it they are dropped.", queues.awaitingContainer)
            var buffer: [UInt8] = []
            registry.emit(into: &buffer)
            return buffer
        }
    }

    /// Raises a counter to `total` (counters only go up; the daemon's counters are totals).
    private func count(_ name: String, _ help: String, _ total: UInt64, cause: String? = nil) {
        let labels = cause.map { [("cause", $0)] } ?? []
        let key = name + (cause ?? "")
        let previous = reported[key] ?? 0
        // The registry hands back the same metric for the same name and labels; asking for it
        // registers it, so a counter still at 0 is exported too.
        let counter = registry.makeCounter(name: name, labels: labels, help: help)
        guard total > previous else { return }
        counter.increment(by: Int64(clamping: total - previous))
        reported[key] = total
    }

    private func gauge(_ name: String, _ help: String, _ value: some BinaryInteger) {
        gauge(name, help, Double(value))
    }

    private func gauge(_ name: String, _ help: String, _ value: Double) {
        registry.makeGauge(name: name, help: help).set(to: value)
    }
}
