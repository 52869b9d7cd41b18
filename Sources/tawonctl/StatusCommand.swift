import ArgumentParser
import Foundation
import Host

/// `tawonctl status`: the daemon's version, uptime, tasks, directives, events and drops.
struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status", abstract: "tawond's version, uptime, tasks, directives, events and drops by cause.")
    @Flag(help: "Print JSON.") var json = false
    @OptionGroup var daemon: DaemonOptions

    func run() async throws {
        let status = try await daemon.client.status()
        if json {
            try printJSON(status)
            return
        }
        print("""
            tawond \(status.version), up \(Int(status.uptimeSeconds)) s
            tasks: \(status.tasks.joined(separator: ", "))\(status.refusedPlugins.isEmpty ? "" : " (\(status.refusedPlugins.count) refused)")
            directives: \(status.directives.count); stream readers: \(status.streams.count)
            records: \(status.events.received) received, \(status.events.emitted) emitted by tasks
            lost: \(status.drops.ringBufferFull) ring buffer full, \(status.drops.taskFailures) task failures, \
            \(status.drops.streamReaders) for slow stream readers, \(status.drops.sinkQueueFull) for slow outputs, \
            \(status.drops.sinkWriteFailed) to failed output writes, \
            \(status.drops.awaitingContainer) waiting for containers, \(status.drops.heldUndecided) held back from processes \
            not yet decided about; \(status.drops.lateForOrder) late for the time order; \(status.drops.unreadableArguments) \
            unreadable arguments
            queues: ring buffer \(status.queues.ringBufferBytes >> 20) MiB; time order \(status.queues.orderWindowMilliseconds) ms \
            (\(status.queues.heldForOrder) held); \(status.queues.streamBufferRecords) records per stream reader; \
            \(status.queues.sinkQueueBytes >> 20) MiB per output; \(status.queues.pendingCalls) calls awaiting their return; \
            \(status.queues.awaitingContainer) records awaiting containers; \(status.queues.taskThreadBatches) batches for the \
            tasks' second thread (\(status.queues.tasksOnSecondThread ? "in use" : "not in use"), \
            used \(status.queues.taskThreadEngaged) times while the ring buffer was filling up)
            capabilities: \(status.capabilities.joined(separator: ", "))
            """)
        for stream in status.streams {
            print("stream reader \(stream.id) of \(stream.directiveID): \(stream.sent) sent, \(stream.dropped) dropped")
        }
    }
}
