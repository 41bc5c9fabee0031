/// A database Ferry reads from. Every call blocks; the engine runs them on threads of their own.
public protocol SourceConnector: Sendable {
    var engine: EngineKind { get }

    /// Reads the structure of every table the mappings select. Tables named by explicit rules that
    /// do not exist are reported by the caller.
    func discover(_ mappings: TableMappings) throws -> [TableSchema]

    /// Opens a read session in which every table is read from one consistent snapshot where the
    /// engine allows it (a shared exported snapshot on PostgreSQL; one snapshot per table elsewhere).
    func openSnapshot(workers: Int) throws -> any SnapshotSession

    /// Native encodings this source can hand over for a plan without decoding values, best first.
    func nativeEncodings(for plan: TablePlan) -> [NativeEncoding]

    /// Opens a connection for validation checksums (used on both sides of a validation).
    func openChecksumSession() throws -> any ChecksumSession
}

/// A consistent read of source tables.
public protocol SnapshotSession: Sendable {
    /// A cheap estimate of the table's row count (catalog statistics where available).
    func estimatedRows(of table: TableSchema) throws -> Int64

    /// Splits a table into chunks of about `chunkBytes` that can be read in parallel (at most `maxChunks`);
    /// one chunk when it should not be split.
    func chunks(of table: TableSchema, estimatedRows: Int64, maxChunks: Int, chunkBytes: Int64) throws -> [ReadChunk]

    /// Streams the planned columns of one chunk into `pipe`, blocking while the pipe is full.
    /// Does not call `pipe.finish`; the caller does.
    func read(_ plan: TablePlan, chunk: ReadChunk, encoding: BatchEncoding, into pipe: BatchPipe) throws

    /// Ends the snapshot and closes its connections.
    func close()
}

/// A part of a table, described by a predicate only its source understands.
public struct ReadChunk: Hashable, Sendable {
    public var index: Int
    public var count: Int
    /// An engine-specific restriction (for example a ctid or key range); nil means the whole table.
    public var predicate: String?

    public init(index: Int, count: Int, predicate: String?) {
        self.index = index
        self.count = count
        self.predicate = predicate
    }

    public static let whole = ReadChunk(index: 0, count: 1, predicate: nil)
}

/// A database Ferry writes to. Every call blocks; the engine runs them on threads of their own.
public protocol TargetConnector: Sendable {
    var engine: EngineKind { get }

    /// Rejects a plan this target cannot store (an unsupported type), naming table.column and the type.
    func check(_ plan: TablePlan) throws

    /// The table name this target actually uses for `table` (SQLite has one schema, `main`).
    func normalize(_ table: TableID) -> TableID

    /// Creates, truncates or checks the target table (with its primary key) per `mode`. `related`
    /// holds the plans of the tables this one may reference, for targets that declare foreign keys
    /// only when a table is created; it is empty when foreign keys are not wanted.
    func prepare(_ plan: TablePlan, mode: TargetTablePrepMode, related: [TableID: TablePlan]) throws

    /// Whether this target accepts a source's native encoding for this plan, given how its table is prepared.
    func accepts(_ encoding: NativeEncoding, for plan: TablePlan, mode: TargetTablePrepMode) -> Bool

    /// Loads every batch from `pipe`, which arrive in `encoding`, into the target table; calls `progress`
    /// with each batch's row count. Returns the number of rows loaded.
    func load(_ plan: TablePlan, encoding: BatchEncoding, from pipe: BatchPipe, progress: @Sendable (Int) -> Void) throws -> Int64

    /// Creates the plan's secondary indexes after its data is loaded.
    func createIndexes(_ plan: TablePlan) throws

    /// Creates the plan's foreign keys whose referenced tables are among `loaded`.
    func createForeignKeys(_ plan: TablePlan, loaded: [TableID: TablePlan]) throws
}

extension TargetConnector {
    public func normalize(_ table: TableID) -> TableID { table }
}
