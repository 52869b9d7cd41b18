import ArgumentParser
import Foundation
import Host
import Logging

/// `tawonctl health`: a self-test of the whole kernel-to-user path.
struct HealthCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "health",
        abstract: "Prove that tawon sees syscalls: run every demo simulation and wait for its events.",
        discussion: """
            Exit status 0 when every simulated syscall came back decoded within the timeout;
            1 with the reason otherwise (for example when BPF cannot be loaded). Usable as a
            Kubernetes exec probe: command: ["tawonctl", "health"].
            """)

    @Option(help: "Seconds to wait for the events.") var timeout: Double = 5
    @Flag(help: "Print JSON.") var json = false
    @Flag(help: "Run the check in tawond (through its socket) instead of embedded.") var daemon = false
    @OptionGroup var plugins: PluginOptions
    @OptionGroup var daemonOptions: DaemonOptions

    func validate() throws {
        do { _ = try HealthTimeout.parse(timeout, name: "--timeout") } catch { throw usageFailure(error.description) }
    }

    func run() async throws {
        let report: HealthCheck.Report
        if daemon {
            report = try await daemonOptions.client.health(timeout: timeout)
        } else {
            let logger = bootstrapLogging(level: .critical)  // the reason of a failure is in the report
            report = HealthCheck.runEmbedded(
                catalog: plugins.loadCatalog(), timeout: try HealthTimeout.parse(timeout, name: "--timeout"), logger: logger)
        }
        if json {
            try printJSON(report)
        } else {
            print(Self.table(report))
        }
        guard report.healthy else {
            printToStandardError("tawonctl health: unhealthy: \(report.failure ?? "")")
            throw ExitCode(1)
        }
        let count = report.rows.reduce(0) { $0 + $1.expected.count }
        print("healthy: all \(count) simulated syscalls came back decoded")
    }

    static func table(_ report: HealthCheck.Report) -> String {
        var table = TextTable(["SIMULATION", "EXPECTED", "SEEN", "LATENCY", "OUTCOME"])
        for row in report.rows {
            table.add([
                row.simulation, row.expected.joined(separator: ","),
                row.seen.isEmpty ? "-" : row.seen.joined(separator: ","),
                row.latencyMilliseconds.map { String(format: "%.1f ms", $0) } ?? "-", row.outcome,
            ])
        }
        return table.render()
    }
}
