import FerryCore
import Foundation

/// Where a replication stands: phase, applied position, lag and per-table change counts. Shared by the
/// runner (which writes it) and displays or the API (which read it).
public final class ReplicationStatus: @unchecked Sendable {
    public enum Phase: String, Sendable { case starting, fullLoad = "full load", changeCapture = "change data capture", stopped }

    public struct Snapshot: Sendable {
        public var phase: Phase
        /// The source position applied last (what the target's control table holds).
        public var position: String?
        public var transactionsApplied: Int
        public var changesApplied: Int
        /// Changes read but not yet applied (DMS `CDCIncomingChanges`).
        public var incomingChanges: Int
        /// Seconds from the commit of the last change read to now (DMS `CDCLatencySource`), 0 when idle.
        public var latencySource: Double
        /// Seconds from the commit of the last change applied to now (DMS `CDCLatencyTarget`), 0 when idle.
        public var latencyTarget: Double
        /// Changes applied per second over the last batches.
        public var changesPerSecond: Double
        /// Per source table: inserts, updates, deletes and truncates applied.
        public var counts: [TableID: [RowChange.Kind: Int]]
        /// Bytes of log the source keeps for this task, when last measured.
        public var retainedBytes: Int64?
        /// Set while the retained log is above the warning threshold.
        public var retainedWarning: String?
        /// Per source table: column changes (DDL) seen in the stream.
        public var ddls: [TableID: Int]
        /// Tables whose changes are no longer applied, with the reason (a DDL Ferry does not apply).
        public var suspended: [TableID: String]
        /// Set when the run stopped by itself at its CdcStopPosition: DMS's stop reason.
        public var stopReason: String?
        /// Per source table and column: LOB values in changes cut to the table's LOB limit.
        public var cutLobs: [TableID: [String: Int]] = [:]
        /// The pipeline's lag as Ferry measures it: the last marker's round trip from the source to the
        /// target, or longer while a marker written earlier has not arrived; nil before the first arrives.
        public var markerLag: Double?
        /// Why markers are not written (an engine without them); nil while they are.
        public var markersUnavailable: String?
        /// Connections to either database lost and made again during the run.
        public var reconnects = 0
        /// The server the stream reads, as it told on the last connect; nil where the engine does not tell.
        public var source: SourceIdentity?
    }

    private let lock = NSLock()
    private var phase = Phase.starting
    private var position: String?
    private var transactions = 0
    private var changes = 0
    private var incoming = 0
    private var lastReadCommit: Date?
    private var lastAppliedCommit: Date?
    private var caughtUp = true
    private var lastIdle: Date?
    private var rate = 0.0
    private var counts: [TableID: [RowChange.Kind: Int]] = [:]
    private var retainedBytes: Int64?
    private var retainedWarning: String?
    private var ddls: [TableID: Int] = [:]
    private var suspended: [TableID: String] = [:]
    private var stopReason: String?
    private var cutLobs: [TableID: [String: Int]] = [:]
    /// Heartbeat markers written and not yet applied, by name, with when they were written.
    private var heartbeats: [String: Date] = [:]
    private var lastRoundTrip: Double?
    private var markersUnavailable: String?
    private var reconnects = 0
    private var source: SourceIdentity?

    public init() {}

    /// A connection broke and the stream is made again.
    func reconnecting() { lock.withLock { reconnects += 1 } }

    func identified(_ source: SourceIdentity) { lock.withLock { self.source = source } }

    /// A heartbeat marker named `name` was written into the source's stream.
    func heartbeat(_ name: String, writtenAt: Date) { lock.withLock { heartbeats[name] = writtenAt } }

    func markersUnavailable(_ reason: String) { lock.withLock { markersUnavailable = reason } }

    func lobsCut(_ table: TableID, _ columns: [String: Int]) { lock.withLock { cutLobs[table] = columns } }

    func stopped(reason: String) { lock.withLock { stopReason = reason } }

    func schemaChanged(_ table: TableID) { lock.withLock { ddls[table, default: 0] += 1 } }

    func suspend(_ table: TableID, reason: String) { lock.withLock { suspended[table] = reason } }
    /// A reloaded table's changes are applied again.
    func resume(_ table: TableID) { lock.withLock { suspended[table] = nil } }

    func set(_ phase: Phase) { lock.withLock { self.phase = phase } }

    func retained(_ bytes: Int64, warning: String?) {
        lock.withLock {
            retainedBytes = bytes
            retainedWarning = warning
        }
    }

    func started(at position: String) { lock.withLock { self.position = position } }

    func read(_ transaction: ChangeTransaction) {
        lock.withLock {
            incoming += transaction.changes.count
            lastReadCommit = transaction.commitTime
            caughtUp = false
        }
    }

    func applied(_ batch: ChangeBatch, seconds: Double) {
        lock.withLock {
            position = batch.position ?? position
            transactions += batch.transactionCount
            changes += batch.changeCount
            incoming = max(0, incoming - batch.changeCount)
            lastAppliedCommit = batch.commitTime ?? lastAppliedCommit
            rate = seconds > 0 ? Double(batch.changeCount) / seconds : rate
            for (table, kinds) in batch.counts {
                counts[table, default: [:]].merge(kinds, uniquingKeysWith: +)
            }
            let now = Date()
            for marker in batch.markers {
                if let written = heartbeats.removeValue(forKey: marker.cutover) { lastRoundTrip = now.timeIntervalSince(written) }
            }
        }
    }

    /// Nothing arrived within a batch window: the target holds everything the source committed.
    func idle() {
        lock.withLock {
            caughtUp = incoming == 0
            if caughtUp { lastIdle = Date() }
        }
    }

    /// Returns once every change committed on the source before `moment` is applied: a later commit has
    /// been applied, or the stream has been idle since. Throws after `timeout` seconds.
    public func waitUntilApplied(committedBefore moment: Date, timeout: Double = 300) async throws {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            let passed = lock.withLock { (lastAppliedCommit.map { $0 >= moment } ?? false) || (lastIdle.map { $0 > moment } ?? false) }
            if passed { return }
            guard Date() < deadline else {
                throw FerryError(.database, "change data capture did not apply the changes committed before \(moment) within \(Int(timeout)) s")
            }
            try await Task.sleep(for: .milliseconds(100))
        }
    }

    /// The last round trip, or the age of the oldest marker still travelling when that is longer.
    private func markerLag(now: Date) -> Double? {
        let travelling = heartbeats.values.min().map { now.timeIntervalSince($0) } ?? 0
        return lastRoundTrip.map { max($0, travelling) }
    }

    public func snapshot(now: Date = Date()) -> Snapshot {
        lock.withLock {
            Snapshot(phase: phase, position: position, transactionsApplied: transactions, changesApplied: changes,
                     incomingChanges: incoming,
                     latencySource: caughtUp ? 0 : max(0, lastReadCommit.map { now.timeIntervalSince($0) } ?? 0),
                     latencyTarget: caughtUp ? 0 : max(0, lastAppliedCommit.map { now.timeIntervalSince($0) } ?? 0),
                     changesPerSecond: rate, counts: counts, retainedBytes: retainedBytes, retainedWarning: retainedWarning,
                     ddls: ddls, suspended: suspended, stopReason: stopReason, cutLobs: cutLobs,
                     markerLag: markerLag(now: now), markersUnavailable: markersUnavailable, reconnects: reconnects, source: source)
        }
    }
}
