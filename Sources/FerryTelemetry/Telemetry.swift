import CoreMetrics
import FerryCatalog
import Foundation
import Prometheus

/// The figures of one process (`ferry serve` or `ferry migrate`): each task's ``TaskMetrics`` and the
/// node's own, recorded through swift-metrics into a Prometheus registry of this process's own (nothing is
/// bootstrapped globally), and their exposition in Prometheus's text format.
public final class Telemetry: @unchecked Sendable {
    /// The content type of ``exposition()``.
    public static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    /// The name the node's figures carry (the `node` label).
    public let nodeName: String
    private let registry = PrometheusCollectorRegistry()
    private let factory: any MetricsFactory
    private let node: NodeMetrics
    private let lock = NSLock()
    private var tasks: [String: TaskMetrics] = [:]
    private let history = MetricHistory()

    /// `node` labels the process's own figures (the host's name by default); `dataDirectory` is the folder
    /// whose free space they report.
    public init(node: String = ProcessInfo.processInfo.hostName, dataDirectory: URL) {
        let prometheus = PrometheusMetricsFactory(registry: registry)
        nodeName = node
        self.node = NodeMetrics(node: node, dataDirectory: dataDirectory, factory: prometheus)
        factory = MultiplexMetricsHandler(factories: [prometheus, history])
    }

    /// The task's metrics, made on first use; a task whose identity changed (its instance, say) starts again.
    public func task(_ identity: TaskIdentity) -> TaskMetrics {
        lock.withLock {
            if let existing = tasks[identity.task], existing.identity == identity { return existing }
            tasks[identity.task]?.destroy()
            history.register(task: identity.task, resourceID: identity.taskID)
            let metrics = TaskMetrics(identity, factory: factory)
            tasks[identity.task] = metrics
            return metrics
        }
    }

    /// The task's metrics if it has any in this process.
    public func existingTask(_ task: String) -> TaskMetrics? {
        lock.withLock { tasks[task] }
    }

    /// Forgets a deleted task's series.
    public func remove(task: String) {
        lock.withLock {
            tasks.removeValue(forKey: task)?.destroy()
            history.forget(task: task)
        }
    }

    /// The CloudWatch datapoints of every window that ended by `now` (see ``MetricHistory``).
    public func finishedDatapoints(now: Date = Date()) -> [StoredMetricPoint] {
        history.drain(now: now)
    }

    /// The node's figures, read (and recorded) now.
    public func nodeSnapshot() -> NodeSnapshot {
        node.record()
    }

    /// Every series in Prometheus's text format, the node's read at this moment.
    public func exposition() -> [UInt8] {
        node.record()
        var buffer: [UInt8] = []
        buffer.reserveCapacity(64 * 1024)
        registry.emit(into: &buffer)
        return buffer
    }
}
