import FerryAPI
import FerryCore
import FerryEngine
import FerryTelemetry
import Foundation
import Hummingbird

/// `ferry migrate --metrics-listen HOST:PORT`: the run's figures on `GET /metrics` while it lasts, recorded
/// each second from the runner's status (docs/metrics.md). The task is labelled `replication_instance="local"`.
final class MigrateMetrics: Sendable {
    let metrics: TaskMetrics
    private let record: @Sendable (TaskMetrics) -> Void
    private let server: Task<Void, Never>
    private let recorder: Task<Void, Never>

    /// Listens and starts recording what `record` gives each second.
    init(_ address: ListenAddress, task: String, mode: String, source: ConnectionURL, target: ConnectionURL,
         record: @escaping @Sendable (TaskMetrics) -> Void) {
        let telemetry = Telemetry(dataDirectory: URL(fileURLWithPath: FileManager.default.currentDirectoryPath))
        let metrics = telemetry.task(TaskIdentity(task: task, replicationInstance: "local", taskID: task, migrationType: mode,
                                                  sourceEngine: source.engine.rawValue, targetEngine: target.engine.rawValue))
        metrics.record(status: "running")
        self.metrics = metrics
        self.record = record
        let app = buildMetricsApplication(telemetry: telemetry, host: address.host, port: address.port)
        server = Task {
            do { try await app.run() } catch { Terminal.error("--metrics-listen \(address.host):\(address.port): \(error)") }
        }
        recorder = Task {
            while !Task.isCancelled {
                record(metrics)
                try? await Task.sleep(for: .seconds(1))
            }
        }
        Terminal.line("metrics on http://\(address.host):\(address.port)/metrics")
    }

    /// Records how the run ended (stopped, or failed) and stops listening.
    func finish<T>(_ result: Result<T, any Error>) {
        recorder.cancel()
        record(metrics)
        if case .failure = result { metrics.record(status: "failed") } else { metrics.record(status: "stopped") }
        server.cancel()
    }
}
