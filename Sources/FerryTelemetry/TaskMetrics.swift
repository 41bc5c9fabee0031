import CoreMetrics
import FerryCore
import FerryEngine
import Foundation

/// What a task is, for its metrics' labels.
public struct TaskIdentity: Sendable, Hashable {
    /// The task's identifier (`ReplicationTaskIdentifier`, or `ferry migrate --task`).
    public var task: String
    /// The replication instance's identifier, or `local` for `ferry migrate`.
    public var replicationInstance: String
    /// The task's resource id, the last part of its ARN (CloudWatch's `ReplicationTaskIdentifier`).
    public var taskID: String
    public var migrationType: String
    public var sourceEngine: String
    public var targetEngine: String

    public init(task: String, replicationInstance: String, taskID: String, migrationType: String, sourceEngine: String, targetEngine: String) {
        self.task = task
        self.replicationInstance = replicationInstance
        self.taskID = taskID
        self.migrationType = migrationType
        self.sourceEngine = sourceEngine
        self.targetEngine = targetEngine
    }
}

/// One task's figures, recorded through swift-metrics from the engine's status snapshots: counters follow
/// the snapshot's totals (a total that went down, a new run, counts from zero again), gauges take its values.
/// The snapshots compute every figure; this only records them, so every exporter reads the same numbers.
public final class TaskMetrics: @unchecked Sendable {
    /// DMS's task statuses, each a series of ``FerryMetric/taskStatus``.
    static let statuses = ["creating", "ready", "starting", "running", "stopping", "stopped", "failed", "deleting"]

    public let identity: TaskIdentity
    private let factory: any MetricsFactory
    private let lock = NSLock()
    private var counters: [Key: (counter: Counter, last: Int64)] = [:]
    private var gauges: [Key: Gauge] = [:]

    private struct Key: Hashable {
        var name: String
        var labels: [String]
    }

    init(_ identity: TaskIdentity, factory: any MetricsFactory) {
        self.identity = identity
        self.factory = factory
        set(FerryMetric.taskInfo, [identity.taskID, identity.migrationType, identity.sourceEngine, identity.targetEngine], 1)
    }

    /// Records the task's DMS status.
    public func record(status: String) {
        for candidate in Self.statuses { set(FerryMetric.taskStatus, [candidate], candidate == status ? 1 : 0) }
    }

    /// Records a full load's tables (nothing for a run without a load: a `cdc` task has no load figures).
    public func record(load tables: [TableProgress]) {
        guard !tables.isEmpty else { return }
        let summary = LoadSummary(tables)
        set(FerryMetric.fullLoadProgress, [], Double(summary.progressPercent(finished: tables.allSatisfy(\.state.isFinal))) / 100)
        for (state, count) in [("queued", summary.queued), ("loading", summary.loading), ("loaded", summary.loaded), ("errored", summary.errored)] {
            set(FerryMetric.tables, [state], Double(count))
        }
        // The task's rows are the sum of the tables' increments: a table loaded again counts from zero.
        var rows: Int64 = 0
        for table in tables {
            let labels = [table.source.schema, table.source.name]
            rows += advance(FerryMetric.tableRowsLoaded, labels, to: table.rowsLoaded)
            advance(FerryMetric.tableRefusedRows, labels, to: table.skippedRows)
        }
        add(FerryMetric.fullLoadRows, [], rows)
    }

    /// Records a change stream.
    public func record(replication status: ReplicationStatus.Snapshot) {
        advance(FerryMetric.cdcChangesApplied, [], to: Int64(status.changesApplied))
        advance(FerryMetric.cdcTransactionsApplied, [], to: Int64(status.transactionsApplied))
        advance(FerryMetric.cdcReconnects, [], to: Int64(status.reconnects))
        set(FerryMetric.cdcIncomingChanges, [], Double(status.incomingChanges))
        set(FerryMetric.cdcSourceLatency, [], status.latencySource)
        set(FerryMetric.cdcTargetLatency, [], status.latencyTarget)
        if let lag = status.markerLag { set(FerryMetric.cdcMarkerRoundTrip, [], lag) }
        if let bytes = status.retainedBytes { set(FerryMetric.cdcRetainedLog, [], Double(bytes)) }
        for (table, kinds) in status.counts {
            for (kind, count) in kinds {
                advance(FerryMetric.tableChanges, [table.schema, table.name, kind.rawValue], to: Int64(count))
            }
        }
        for (table, count) in status.ddls { advance(FerryMetric.tableDDLs, [table.schema, table.name], to: Int64(count)) }
        for table in Set(status.counts.keys).union(status.suspended.keys) {
            set(FerryMetric.tableSuspended, [table.schema, table.name], status.suspended[table] == nil ? 0 : 1)
        }
    }

    /// Records a table's validation.
    public func record(validation table: TableID, failedRows: Int64, suspendedRows: Int64) {
        set(FerryMetric.tableValidationFailedRows, [table.schema, table.name], Double(failedRows))
        set(FerryMetric.tableValidationSuspendedRows, [table.schema, table.name], Double(suspendedRows))
    }

    /// Removes every series of the task (it was deleted).
    func destroy() {
        lock.withLock {
            for entry in counters.values { entry.counter.destroy() }
            for gauge in gauges.values { gauge.destroy() }
            counters = [:]
            gauges = [:]
        }
    }

    private func dimensions(_ metric: MetricDefinition, _ values: [String]) -> [(String, String)] {
        [("task", identity.task), ("replication_instance", identity.replicationInstance)] + Array(zip(metric.labels, values))
    }

    private func set(_ metric: MetricDefinition, _ labels: [String], _ value: Double) {
        let key = Key(name: metric.name, labels: labels)
        lock.withLock {
            let gauge = gauges[key] ?? Gauge(label: metric.name, dimensions: dimensions(metric, labels), factory: factory)
            gauges[key] = gauge
            gauge.record(value)
        }
    }

    /// Moves a counter to follow a total; returns the increment.
    @discardableResult
    private func advance(_ metric: MetricDefinition, _ labels: [String], to total: Int64) -> Int64 {
        let key = Key(name: metric.name, labels: labels)
        return lock.withLock {
            var entry = counters[key] ?? (Counter(label: metric.name, dimensions: dimensions(metric, labels), factory: factory), 0)
            let delta = total >= entry.last ? total - entry.last : total
            // Even a zero: a rate needs to know the figure was read and did not move.
            entry.counter.increment(by: delta)
            entry.last = total
            counters[key] = entry
            return delta
        }
    }

    private func add(_ metric: MetricDefinition, _ labels: [String], _ delta: Int64) {
        let key = Key(name: metric.name, labels: labels)
        lock.withLock {
            var entry = counters[key] ?? (Counter(label: metric.name, dimensions: dimensions(metric, labels), factory: factory), 0)
            entry.counter.increment(by: delta)
            entry.last += delta
            counters[key] = entry
        }
    }
}
