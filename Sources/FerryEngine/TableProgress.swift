import FerryCore
import Foundation

/// Where one table stands in a full load. The raw values are DMS's `TableState` strings.
public enum TableLoadState: String, Sendable, Codable {
    case queued = "Before load"
    case loading = "Full load"
    case completed = "Table completed"
    case failed = "Table error"
    case cancelled = "Table cancelled"
    case missing = "Table does not exist"

    /// Whether the table reached a final state.
    public var isFinal: Bool { self != .queued && self != .loading }
}

/// One table's progress and outcome.
public struct TableProgress: Sendable, Codable {
    public var source: TableID
    public var target: TableID
    public var state: TableLoadState
    public var estimatedRows: Int64
    public var rowsLoaded: Int64
    public var chunks: Int
    public var chunksDone: Int
    public var startedAt: Date?
    public var finishedAt: Date?
    public var error: String?
    public var warnings: [String]
    /// Per column: LOB values cut to the table's LOB limit (limited LOB mode).
    public var cutLobs: [String: Int] = [:]
    /// Whether rows passed through in the engines' shared native format without decoding.
    public var passthrough: Bool
    /// Rows the target refused (or a transformation could not compute) that were left out under
    /// `DataErrorPolicy` LOG_ERROR or IGNORE_RECORD.
    public var skippedRows: Int64 = 0
    /// Whether this table's failure stops the task (`DataErrorPolicy` STOP_TASK or its escalation).
    public var stopsTask = false
    /// Whether the target refused this table's chunk because a later run took the task over: the load stops.
    public var fenced = false

    public init(source: TableID, target: TableID, state: TableLoadState = .queued) {
        self.source = source
        self.target = target
        self.state = state
        estimatedRows = 0
        rowsLoaded = 0
        chunks = 1
        chunksDone = 0
        warnings = []
        passthrough = false
    }

    /// Seconds spent loading so far (or in all, once finished).
    public func seconds(now: Date = Date()) -> Double {
        guard let startedAt else { return 0 }
        return max((finishedAt ?? now).timeIntervalSince(startedAt), 0)
    }

    /// Rows per second over the load so far.
    public func rowsPerSecond(now: Date = Date()) -> Double {
        let s = seconds(now: now)
        return s > 0 ? Double(rowsLoaded) / s : 0
    }
}

/// The live state of a full load, shared between the runner and whoever displays it.
public final class FullLoadStatus: @unchecked Sendable {
    private let lock = NSLock()
    private var tables: [TableProgress] = []
    private var index: [TableID: Int] = [:]
    private var runWarnings: [String] = []

    public init() {}

    /// Warnings about the load as a whole (a mapping rule with a wildcard that matched nothing).
    public var warnings: [String] { lock.withLock { runWarnings } }

    func warn(_ warnings: [String]) {
        lock.withLock { runWarnings += warnings.filter { !runWarnings.contains($0) } }
    }

    /// Every table's progress, in load order.
    public func snapshot() -> [TableProgress] {
        lock.withLock { tables }
    }

    func add(_ table: TableProgress) {
        lock.withLock {
            index[table.source] = tables.count
            tables.append(table)
        }
    }

    func update(_ source: TableID, _ change: (inout TableProgress) -> Void) {
        lock.withLock {
            guard let i = index[source] else { return }
            change(&tables[i])
        }
    }

    func get(_ source: TableID) -> TableProgress? {
        lock.withLock { index[source].map { tables[$0] } }
    }
}
