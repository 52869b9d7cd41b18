import Foundation
import Metrics
import Prometheus

/// Prometheus metrics for GET /metrics: swift-metrics counters and gauges on a Prometheus
/// registry, brought up to date from the daemon's counters at each scrape.
final class DaemonMetrics: @unchecked Sendable {
    let registry = PrometheusCollectorRegistry()
    private let factory: PrometheusMetricsFactory
    private let lock = NSLock()
    private var reported: [String: UInt64] = [:]

    init() {
        factory = PrometheusMetricsFactory(registry: registry)
    }

    /// The text exposition of every metric.
    func render(_ status: DaemonStatus) -> [UInt8] {
        lock.withLock {
            count("tawon_records_received_total", [], status.events.received)
            count("tawon_records_written_total", [], status.events.written)
            count("tawon_records_lost_total", [("cause", "ring_buffer_full")], status.drops.ringBufferFull)
            count("tawon_records_lost_total", [("cause", "task_failure")], status.drops.taskFailures)
            count("tawon_records_lost_total", [("cause", "stream_reader")], status.drops.streamReaders)
            count("tawon_records_lost_total", [("cause", "sink_queue_full")], status.drops.sinkQueueFull)
            count("tawon_records_lost_total", [("cause", "awaiting_container")], status.drops.awaitingContainer)
            count("tawon_records_late_for_order_total", [], status.drops.lateForOrder)
            count("tawon_unreadable_arguments_total", [], status.drops.unreadableArguments)
            count("tawon_records_held_undecided_total", [], status.drops.heldUndecided)
            gauge("tawon_directives", Double(status.directives.count))
            gauge("tawon_stream_readers", Double(status.streams.count))
            gauge("tawon_uptime_seconds", status.uptimeSeconds)
            gauge("tawon_ring_buffer_bytes", Double(status.queues.ringBufferBytes))
            gauge("tawon_records_held_for_order", Double(status.queues.heldForOrder))
            gauge("tawon_tasks_on_second_thread", status.queues.tasksOnSecondThread ? 1 : 0)
            count("tawon_task_thread_engaged_total", [], status.queues.taskThreadEngaged)
            var buffer: [UInt8] = []
            registry.emit(into: &buffer)
            return buffer
        }
    }

    /// Raises a counter to `total` (counters only go up; the daemon's counters are totals).
    private func count(_ label: String, _ dimensions: [(String, String)], _ total: UInt64) {
        let key = label + dimensions.map { "\($0.0)=\($0.1)" }.joined(separator: ",")
        let previous = reported[key] ?? 0
        // The registry hands back the same metric for the same name and labels; asking for it
        // registers it, so a counter still at 0 is exported too.
        let counter = factory.makeCounter(label: label, dimensions: dimensions)
        guard total > previous else { return }
        counter.increment(by: Int64(total - previous))
        reported[key] = total
    }

    private func gauge(_ label: String, _ value: Double) {
        factory.makeRecorder(label: label, dimensions: [], aggregate: false).record(value)
    }
}

