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

/// One differing row: its key, what differs, and the canonical values on each side.
public struct RowDifference: Sendable, Hashable {
    public var kind: DifferenceKind
    /// The key's canonical text, one entry per key column (source names).
    public var key: [String?]
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
}

/// The outcome of validating one table.
public struct TableValidation: Sendable {
    public var source: TableID
    public var target: TableID
    public var state: ValidationState
    /// Rows on the source side (after filters) and on the target side.
    public var sourceRows: Int64 = 0
    public var targetRows: Int64 = 0
    /// Every difference found; only the first `FailureMaxCount` are kept in `differences`.
    public var differenceCount: Int64 = 0
    public var differences: [RowDifference] = []
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
