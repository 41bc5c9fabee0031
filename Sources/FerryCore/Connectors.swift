import Foundation
/// A database Ferry reads from. Every call blocks; the engine runs them on threads of their own.
public protocol SourceConnector: Sendable {
    var engine: EngineKind { get }

    /// Reads the structure of every table the mappings select. Tables named by explicit rules that
    /// do not exist are reported by the caller.
    func discover(_ mappings: TableMappings) throws -> [TableSchema]

    /// The database's schemas a user's tables can be in (PostgreSQL schemas, MySQL databases, SQLite's
    /// `main`), without the engine's own, sorted: what DMS's DescribeSchemas lists.
    func schemaNames() throws -> [String]

    /// Opens a read session in which every table is read from one consistent snapshot where the
    /// engine allows it (a shared exported snapshot on PostgreSQL; one snapshot per table elsewhere).
    func openSnapshot(workers: Int) throws -> any SnapshotSession

    /// Native encodings this source can hand over for a plan without decoding values, best first.
    func nativeEncodings(for plan: TablePlan) -> [NativeEncoding]

    /// Opens a connection for validation checksums (used on both sides of a validation).
    func openChecksumSession() throws -> any ChecksumSession

    /// Opens change capture for a task (slot and publication names derive from `task`), or throws when
    /// this engine cannot capture changes yet.
    func openCapture(task: String, schemas: [TableSchema]) throws -> any ChangeCapture

    /// Opens a read session on an already exported snapshot (the one change capture created), so the
    /// full load and the change stream meet exactly.
    func openSnapshot(workers: Int, importing snapshot: String) throws -> any SnapshotSession

    /// The next value each counter column of `table` would hand out now (source column name → value):
    /// what the target's counters are moved to at cutover.
    func counterNextValues(_ table: TableSchema) throws -> [String: Int64]

    /// The sequences of the selected tables' schemas that no column owns, with their next values.
    func standaloneSequences(of tables: [TableSchema]) throws -> [SequenceDefinition]

    /// The objects of the selected tables' schemas that Ferry does not copy — views, triggers, routines —
    /// each named with its kind (`view app.active_users`), so that the load can say so.
    func uncopiedObjects(of tables: [TableSchema]) throws -> [String]

    /// Holds off writes on `tables` (and lets reads go on) for at most `timeout` seconds, in a session the
    /// source ends by itself after that long, so that `task`'s change stream can be drained to the moment
    /// the freeze began.
    func freezeWrites(_ tables: [TableID], task: String, timeout: Double) throws -> any WriteFreeze

    /// Writes `marker` into `task`'s change stream while writes go on (to time the stream's round trip)
    /// and returns its position.
    func writeMarker(_ marker: StreamMarker, task: String) throws -> String

    /// Whether a target that has applied through `applied` holds everything up to `marker`, a position a
    /// marker was written at.
    func position(_ applied: String, covers marker: String) -> Bool

    /// Transactions that stand in a cutover's way, one line each: on the database frozen, writing
    /// transactions open longer than `seconds` (the freeze would wait for them) and prepared ones (they
    /// commit whenever their coordinator says); on the new database (`asNewPrimary`), transactions that
    /// write now from anything but Ferry. Empty where the engine has none or cannot tell.
    func cutoverBlockers(olderThan seconds: Double, asNewPrimary: Bool) throws -> [String]

    /// The tables among `tables` that a completed cutover fenced (``WriteFreeze/fence(note:)``): they moved
    /// to another database and no longer receive the application's writes.
    func fencedTables(_ tables: [TableID]) throws -> [TableID]

    /// This engine's premigration checks of the database in `role`, over the selected tables (for a
    /// target, the tables the migration writes): server settings, privileges, objects.
    func assess(_ tables: [TableSchema], as role: AssessmentRole) throws -> [AssessmentFinding]

    /// The checks ``assess(_:as:)`` makes in `role`, known without connecting.
    func assessmentChecks(as role: AssessmentRole) -> [AssessmentCheck]
}

extension SourceConnector {
    public func openSnapshot(workers: Int, importing snapshot: String) throws -> any SnapshotSession {
        try openSnapshot(workers: workers)
    }

    /// Engines without sequences of their own have none.
    public func standaloneSequences(of tables: [TableSchema]) throws -> [SequenceDefinition] { [] }
}

/// A source's change stream for one task.
public protocol ChangeCapture: AnyObject, Sendable {
    /// Whether the task's capture exists on the source already (a slot, a binlog position).
    func exists() throws -> Bool

    /// Creates the capture for `tables`; returns the position the stream starts after and the snapshot
    /// the full load must read (valid until `start`).
    func create(tables: [TableID]) throws -> (position: String, snapshot: String?)

    /// Drops the capture (slot) so that it holds nothing on the source.
    func drop() throws

    /// Starts streaming transactions committed after `position`.
    func start(after position: String) throws

    /// The next committed transaction, or nil when none arrives within `timeout` seconds.
    func next(timeout: Double) throws -> ChangeTransaction?

    /// Tells the source that the target durably applied everything up to `position`.
    func acknowledge(_ position: String) throws

    /// Bytes of log the source keeps for this capture (WAL behind the slot); nil when unknown.
    func retainedBytes() throws -> Int64?

    /// Checks a start position the user gave (DMS `CdcStartPosition`): its form, and that the source still
    /// holds the changes after it. The capture exists when this is called.
    func checkStart(at position: String) throws

    /// Checks, before a run resumes after the target's `position`, that the source can still give every
    /// change after it: a capture that confirmed more than the target holds (a target restored from a
    /// backup, a failover that lost commits) throws ``FerryError/Kind/captureLost``.
    func checkResume(after position: String) throws

    /// A position from which every change committed at or after `time` can be read (DMS `CdcStartTime`);
    /// the changes before `time` are then skipped.
    func position(before time: Date) throws -> String

    /// Ends another reader of this capture, so this run can read: one left by an earlier run of the task
    /// that a claim on the target has just fenced (a paused process holding a PostgreSQL slot), or this
    /// run's own connection that a network cut left open on the server. Only a run that holds the claim
    /// calls it: just after claiming, or on a reconnect once it has checked the claim is still its own.
    func takeOver() throws

    /// The tables' columns as they are now (after a reload, or a column change the stream applied): the
    /// next `start` reads the log against these, so it does not find the same change again.
    func update(columnsOf schemas: [TableSchema])

    /// Where a capture the user created and named (not Ferry) stands, when it exists: a `cdc` run starts
    /// there rather than replacing it. Nil for Ferry's own captures.
    func userCapturePosition() throws -> String?

    /// Which server answers now (``SourceIdentity``), asked on every connect so that a failover is seen.
    func identity() throws -> SourceIdentity?
}

extension ChangeCapture {
    public func checkStart(at position: String) throws {}

    /// A capture the source does not confirm (a binlog, SQLite's change table) holds what it held.
    public func checkResume(after position: String) throws {}

    /// A capture whose readers the server itself replaces (a binlog dump with the task's server id) or
    /// that has none (SQLite's change table) has nothing to end.
    public func takeOver() throws {}

    public func userCapturePosition() throws -> String? { nil }

    /// A source that cannot fail over to another server (SQLite's file) has no identity to watch.
    public func identity() throws -> SourceIdentity? { nil }

    public func position(before time: Date) throws -> String {
        throw FerryError(.invalidParameter, "this source cannot start change data capture at a time (PostgreSQL has no way from a time to a WAL position); give a start position instead (CdcStartPosition, e.g. an LSN)")
    }
}

/// A consistent read of source tables.
public protocol SnapshotSession: Sendable {
    /// A cheap estimate of the table's row count (catalog statistics where available).
    func estimatedRows(of table: TableSchema) throws -> Int64

    /// Splits a table into chunks of about `chunkBytes` that can be read in parallel (at most `maxChunks`);
    /// one chunk when it should not be split.
    func chunks(of table: TableSchema, estimatedRows: Int64, maxChunks: Int, chunkBytes: Int64) throws -> [ReadChunk]

    /// One chunk per segment of a `ranges` parallel-load rule, in this engine's SQL, all read in the same
    /// snapshot; one whole chunk where the engine cannot give several readers one snapshot.
    func chunks(of table: TableSchema, segments: RangeSegments) throws -> [ReadChunk]

    /// One chunk per named partition of a `partitions-list` rule, and one for the table's other partitions,
    /// all read in the same snapshot. Throws (naming the field) for an engine or table without them.
    func chunks(of table: TableSchema, partitions: [String], field: String) throws -> [ReadChunk]

    /// Streams the planned columns of one chunk into `pipe`, blocking while the pipe is full.
    /// Does not call `pipe.finish`; the caller does.
    func read(_ plan: TablePlan, chunk: ReadChunk, encoding: BatchEncoding, into pipe: BatchPipe) throws

    /// Ends the snapshot and closes its connections.
    func close()

    /// A name by which a session on another node reads this same snapshot
    /// (``SourceConnector/openSnapshot(workers:importing:)``), valid while this session is open; nil where
    /// the engine cannot share one (then no other node loads this load's chunks).
    var sharedSnapshot: String? { get }
}

extension SnapshotSession {
    public var sharedSnapshot: String? { nil }
}

/// A part of a table, described by a predicate only its source understands.
public struct ReadChunk: Hashable, Sendable {
    public var index: Int
    public var count: Int
    /// An engine-specific restriction (for example a ctid or key range); nil means the whole table.
    public var predicate: String?
    /// The table partitions to read (MySQL's `PARTITION (…)`); empty means all of them.
    public var partitions: [String]
    /// The value ranges this chunk is segment `index` of, when it is one: its rows are then known by their
    /// values, so a later run can read them again and find them on the target (a load resumes by chunk).
    public var segments: RangeSegments?

    public init(index: Int, count: Int, predicate: String?, partitions: [String] = [], segments: RangeSegments? = nil) {
        self.index = index
        self.count = count
        self.predicate = predicate
        self.partitions = partitions
        self.segments = segments
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

    /// The SQL that gives `column` its source's generated default in this target's DDL (an identity clause,
    /// AUTO_INCREMENT, `DEFAULT CURRENT_TIMESTAMP`, …), or nil when the column has none or this target has
    /// no equivalent: the load then names it in the table's warnings.
    func generatedDefaultSQL(_ column: ColumnPlan, in plan: TablePlan) -> String?

    /// Moves every counter of the table (identity, sequence, AUTO_INCREMENT, AUTOINCREMENT) past the
    /// highest value the table holds and to at least `next` (target column name → the next value the
    /// source would hand out), so that the first insert without an id after cutover does not collide.
    func syncCounters(_ plan: TablePlan, next: [String: Int64]) throws

    /// Creates `sequence` (renamed to `id`) unless it exists, and moves it so that its next value is at
    /// least the source's; returns false when this target cannot hold it (a sequence from another engine).
    func syncSequence(_ sequence: SequenceDefinition, as id: TableID, from engine: EngineKind) throws -> Bool

    /// The column definitions (`name type NOT NULL DEFAULT …`) this target would create the plan's table
    /// with, in the plan's order, touching nothing: what `ferry migrate --plan` shows.
    func columnDefinitions(_ plan: TablePlan) throws -> [String]

    /// Creates, truncates or checks the target table (with its primary key) per `mode`. `related`
    /// holds the plans of the tables this one may reference, for targets that declare foreign keys
    /// only when a table is created; it is empty when foreign keys are not wanted.
    func prepare(_ plan: TablePlan, mode: TargetTablePrepMode, related: [TableID: TablePlan]) throws

    /// Whether this target accepts a source's native encoding for this plan, given how its table is prepared.
    func accepts(_ encoding: NativeEncoding, for plan: TablePlan, mode: TargetTablePrepMode) -> Bool

    /// Loads every batch from `pipe`, which arrive in `encoding`, into the target table; calls `progress`
    /// with each batch's row count. With `commitRows`, no target transaction holds more rows than that
    /// (DMS `CommitRate`; rows then arrive decoded); without, the target commits as suits it best. With
    /// `fence`, each transaction first checks the run's claim and throws ``FerryError/Kind/fenced`` once
    /// a later run holds the task. Returns the number of rows loaded.
    func load(_ plan: TablePlan, encoding: BatchEncoding, from pipe: BatchPipe, commitRows: Int?, fence: LoadFence?,
              progress: @Sendable (Int) -> Void) throws -> Int64

    /// Creates the plan's secondary indexes after its data is loaded.
    func createIndexes(_ plan: TablePlan) throws

    /// Adds the primary key to a table created without it (``TablePlan/primaryKeyAfterLoad``).
    func addPrimaryKey(_ plan: TablePlan) throws

    /// Creates the plan's foreign keys whose referenced tables are among `loaded`.
    func createForeignKeys(_ plan: TablePlan, loaded: [TableID: TablePlan]) throws

    /// Removes the write fence an earlier cutover put on these tables (``WriteFreeze/fence(note:)``), so the
    /// application can write to them again: the database became the primary once more. Nothing to do
    /// where there is none.
    func removeWriteFence(_ tables: [TableID]) throws

    /// Opens a connection that applies captured changes, creating the `ferry_apply_status` control table
    /// in `controlSchema` (empty: the engine's default) when it does not exist.
    func openApplier(controlSchema: String) throws -> any ChangeApplier
}

extension SnapshotSession {
    public func chunks(of table: TableSchema, partitions: [String], field: String) throws -> [ReadChunk] {
        throw FerryError.invalidParameter(field, "partitions-list needs a MySQL/MariaDB source (as in DMS); use ranges for \(table.id)")
    }
}

extension TargetConnector {
    public func normalize(_ table: TableID) -> TableID { table }

    /// Only a PostgreSQL target holds PostgreSQL's sequences.
    public func syncSequence(_ sequence: SequenceDefinition, as id: TableID, from engine: EngineKind) throws -> Bool { false }

    /// Loads with the target's own commit sizes, unfenced.
    public func load(_ plan: TablePlan, encoding: BatchEncoding, from pipe: BatchPipe, progress: @Sendable (Int) -> Void) throws -> Int64 {
        try load(plan, encoding: encoding, from: pipe, commitRows: nil, fence: nil, progress: progress)
    }

    /// Targets that cannot add a key to an existing table create it with the table: nothing to do.
    public func addPrimaryKey(_ plan: TablePlan) throws {}
}

/// A run's claim on the target, which the transactions of its full load check first (ARCHITECTURE §4
/// rule 6): each begins by reading the task's `ferry_apply_status` row under a shared lock and refuses to
/// go on unless `epoch` is still there. A later claim waits for the load's open transactions and refuses
/// the rest, so a node that lost the task (paused, cut off) adds no row after another one took it over.
public struct LoadFence: Sendable, Equatable {
    public var task: String
    public var epoch: Int64
    public var controlSchema: String
    /// The claim of the one chunk these transactions load, when nodes share the table's chunks: checked too.
    public var chunk: ChunkFence?

    public init(task: String, epoch: Int64, controlSchema: String, chunk: ChunkFence? = nil) {
        self.task = task
        self.epoch = epoch
        self.controlSchema = controlSchema
        self.chunk = chunk
    }

    /// Every row a transaction checks, with the epoch it must still hold: the task's, then the chunk's.
    public var claims: [(row: String, epoch: Int64)] { ChunkFence.claims(task: task, epoch: epoch, chunk: chunk) }
}
