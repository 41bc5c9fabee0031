import Foundation

/// A full load's tables summed up as DMS's task statistics count them: tables by state, rows, and the
/// progress percentage. One place for these figures, read by Describe calls and by the metrics.
public struct LoadSummary: Sendable, Equatable {
    public var queued = 0
    public var loading = 0
    public var loaded = 0
    /// Failed tables and tables that do not exist.
    public var errored = 0
    public var rowsLoaded: Int64 = 0
    /// Rows done and expected: a completed table counts its estimate, or its rows when it had more.
    private var done: Int64 = 0
    private var expected: Int64 = 0
    private var tableCount = 0

    public init(_ tables: [TableProgress]) {
        for table in tables {
            let estimate = max(table.estimatedRows, table.rowsLoaded)
            done += table.state == .completed ? estimate : table.rowsLoaded
            expected += estimate
            rowsLoaded += table.rowsLoaded
        }
        count(tables.map(\.state))
    }

    /// Counts the tables by these states instead (a task's tables across its runs).
    public mutating func count(_ states: [TableLoadState]) {
        queued = states.filter { $0 == .queued }.count
        loading = states.filter { $0 == .loading }.count
        loaded = states.filter { $0 == .completed }.count
        errored = states.filter { $0 == .failed || $0 == .missing }.count
        tableCount = states.count
    }

    /// DMS's `FullLoadProgressPercent`: 100 once a finished load has every table loaded, otherwise the
    /// share of rows done, at most 99.
    public func progressPercent(finished: Bool) -> Int {
        if finished, tableCount > 0, loaded == tableCount { return 100 }
        return expected > 0 ? Int(min(99, done * 100 / expected)) : 0
    }
}
