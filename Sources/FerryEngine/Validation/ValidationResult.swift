import FerryCore
import Foundation

/// A table's validation state, spelled as DMS spells `TableStatistics.ValidationState`.
public enum ValidationState: String, Sendable, Codable {
    case notEnabled = "Not enabled"
    case pendingRecords = "Pending records"
    case mismatchedRecords = "Mismatched records"
    case suspendedRecords = "Suspended records"
    case noPrimaryKey = "No primary key"
    case tableError = "Table error"
    case validated = "Validated"
    case pendingValidation = "Pending validation"
}

/// How one row differs between source and target.
public enum DifferenceKind: String, Sendable, Codable {
    /// The source has the row and the target does not (DMS `MISSING_TARGET`).
    case missingOnTarget = "MISSING_TARGET"
    /// The target has a row the source does not (DMS `MISSING_SOURCE`).
    case extraOnTarget = "MISSING_SOURCE"
    /// Both have the row and some columns differ (DMS `RECORD_DIFF`).
    case differs = "RECORD_DIFF"
}

/// One differing row, or a run of rows missing on one side whose integer keys follow one another: its
/// key, what differs, and the canonical values on each side.
public struct RowDifference: Sendable, Hashable {
    public var kind: DifferenceKind
    /// The key's canonical text, one entry per key column (source names); a run's first key.
    public var key: [String?]
    /// A run's last key (its keys are every integer from `key` to this); nil for one row.
    public var lastKey: [String?]?
    /// Source names of the differing columns (for `differs`).
    public var columns: [String]
    /// The differing columns' canonical values on the source and the target.
    public var sourceValues: [String?]
    public var targetValues: [String?]

    public init(kind: DifferenceKind, key: [String?], columns: [String] = [], sourceValues: [String?] = [], targetValues: [String?] = []) {
        self.kind = kind
        self.key = key
        self.columns = columns
        self.sourceValues = sourceValues
        self.targetValues = targetValues
    }

    /// The rows this difference covers: 1, or a run's length.
    public var rows: Int64 {
        guard let lastKey, let first = key.first.flatMap({ $0 }).flatMap(Int64.init), let last = lastKey.first.flatMap({ $0 }).flatMap(Int64.init) else { return 1 }
        return last - first + 1
    }

    /// Every key this difference covers, in order.
    public var keys: [[String?]] {
        guard lastKey != nil, let first = key.first.flatMap({ $0 }).flatMap(Int64.init) else { return [key] }
        return (0..<rows).map { [String(first + $0)] }
    }
}

/// The outcome of validating one table.
public struct TableValidation: Sendable {
    public var source: TableID
    public var target: TableID
    public var state: ValidationState
    /// Rows on the source side (after filters) and on the target side.
    public var sourceRows: Int64 = 0
    public var targetRows: Int64 = 0
    /// Every row found differing; `differences` keeps at most `FailureMaxCount` entries (a run of missing
    /// keys is one), shared between the kinds found so that each has examples.
    public var differenceCount: Int64 = 0
    /// Rows found differing, per kind: the totals however many entries were kept.
    public var differenceCounts: [DifferenceKind: Int64] = [:]
    public var differences: [RowDifference] = []
    /// The key's columns (source names), for reports.
    public var keyColumns: [String] = []
    /// Rows that kept changing on the source while they were compared during CDC: neither matched nor
    /// mismatched (DMS `ValidationSuspendedRecords`).
    public var suspendedCount: Int64 = 0
    /// Rows fetched from each side to localise differences (only hashes travel for matching ranges).
    public var rowsFetched: Int64 = 0
    /// Seconds until the first comparison of every range said whether the table matches.
    public var verdictSeconds: Double = 0
    /// Seconds until every difference was localised.
    public var seconds: Double = 0
    public var error: String?
    /// Set when the table was repaired: rows deleted from and re-copied to the target.
    public var repairedRows: Int64?

    public init(source: TableID, target: TableID, state: ValidationState) {
        self.source = source
        self.target = target
        self.state = state
    }

    /// Whether source and target hold the same rows (a table without a primary key counts when its
    /// whole-table count and hash agree).
    public var matches: Bool {
        state == .validated || state == .suspendedRecords || (state == .noPrimaryKey && differenceCount == 0 && error == nil)
    }
}

/// Limits of one validation.
public struct ValidationOptions: Sendable {
    /// How many differences per table are kept with their values (DMS `FailureMaxCount`); the rest are counted.
    public var failureMaxCount: Int = 10_000
    /// The number of tables validated at once (DMS `ThreadCount`).
    public var threadCount: Int = 5
    /// Rows per first-level bucket, on average.
    public var rowsPerBucket: Int64 = 256
    /// At most this many first-level buckets per table.
    public var maxBuckets: Int64 = 1 << 20
    /// At most about this many rows are fetched from each side at once to compare row by row (DMS `PartitionSize`).
    public var fetchRows: Int64 = 10_000
    /// While change data capture applies writes, differences may be changes in flight. When set, it is
    /// called with a moment and returns once every change committed on the source before that moment
    /// is applied to the target; differing rows are then fetched again and compared anew (up to
    /// `recheckRounds` times), and only rows that still differ are reported.
    public var settle: (@Sendable (Date) async throws -> Void)?
    public var recheckRounds = 3
    /// Leave LOB columns (text, JSON, binary LOBs) out of the comparison (DMS `ValidationSettings.SkipLobColumns`,
    /// or a task that does not copy them).
    public var skipLobColumns = false

    public init() {}
}
