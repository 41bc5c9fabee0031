import FerryCore
import Foundation
import Logging

/// Settings of a full load.
public struct FullLoadOptions: Sendable {
    public var mappings: TableMappings
    public var prepMode: TargetTablePrepMode
    /// How many tables (or chunks of large tables) load at once (DMS `MaxFullLoadSubTasks`).
    public var parallelism: Int
    /// Whether secondary indexes and foreign keys are created after the data.
    public var createSecondaryObjects: Bool
    /// Batches waiting between each reader and its writer; bounds memory per chunk.
    public var pipeCapacity: Int
    /// Source tables not to load (already loaded by an earlier run that is being resumed).
    public var skipTables: Set<TableID> = []
    /// Tables larger than this are split into chunks of about this size, read in parallel.
    public var chunkBytes: Int64 = 64 << 20
    /// A snapshot exported by change capture, which the load reads instead of one of its own.
    public var snapshot: String?
    /// Copy LOB columns (text, JSON, binary LOBs); when false they are left out of every table except as
    /// key columns (DMS `TargetMetadata.SupportLobs` false).
    public var supportLobs = true
    /// Create each target table's primary key after its rows are loaded (DMS
    /// `FullLoadSettings.CreatePkAfterFullLoad`); only tables the load creates (drop-and-create).
    public var primaryKeyAfterLoad = false
    /// The task's limited LOB mode (DMS `TargetMetadata.LimitedSizeLobMode` with `LobMaxSize`); nil copies every
    /// LOB whole. A table-settings rule's `lob-settings` overrides it for its tables.
    public var lobLimit: LobLimit?
    /// Whether a LOB over a table-settings rule's `limited` size fails its table instead of being cut
    /// (DMS `ErrorBehavior.DataTruncationErrorPolicy` SUSPEND_TABLE or STOP_TASK).
    public var lobTruncationFailsTable = false
    /// When set, the load stops once this many tables have failed, and `run` throws (DMS `ErrorBehavior`
    /// `TableErrorPolicy` STOP_TASK, or `TableErrorEscalationCount`); otherwise the other tables go on.
    public var tableErrorLimit: Int?
    /// At most this many rows in one target transaction (DMS `FullLoadSettings.CommitRate`); rows are then
    /// decoded rather than passed through. Nil lets each target commit as suits it best (a whole chunk in
    /// one PostgreSQL COPY).
    public var commitRows: Int?
    /// What a row the target refuses does (DMS `ErrorBehavior.DataErrorPolicy` and its escalation).
    public var dataErrors = DataErrorPolicy.suspendTable
    /// The task name and control schema under which skipped rows are recorded (`awsdms_apply_exceptions`).
    public var taskName = "ferry-migrate"
    public var controlSchema = ""
    /// The run's claim on the target, which every transaction of the load checks first; nil loads unfenced
    /// (`ferry migrate`, where one process runs the task). A fenced load records its progress on the target
    /// (``LoadProgress``).
    public var fence: LoadFence?
    /// Carry on from the progress an earlier run of the task recorded on the target: tables that finished
    /// are skipped, and a table split into value ranges loads only the chunks that did not finish. Otherwise
    /// (and always for the tables it prepares anew) the load starts the table's progress over.
    public var resume = false
    /// The change-stream position this load's snapshot meets (a `full-load-and-cdc` run), recorded with its
    /// progress so that a run that resumes the load starts the stream there.
    public var captureStart: String?
    /// The other nodes of the cluster, which load chunks of the tables split into value ranges when the
    /// source can share its snapshot and the load is fenced; nil loads every chunk here.
    public var chunkExchange: (any ChunkExchange)?

    /// How many chunks one large table is split into: at most `parallelism`, and at most the machine's
    /// core count (but 2): each chunk runs a reader and a writer thread and a session on each server,
    /// and more of them than cores only adds contention (measured in bench/RESULTS.md).
    public var chunksPerTable: Int {
        min(parallelism, Self.chunksPerNode)
    }

    /// How many chunks one node copies at once, of its own loads or of other nodes': one per core (but 2).
    public static let chunksPerNode = max(2, ProcessInfo.processInfo.activeProcessorCount)

    public init(mappings: TableMappings = .includeAll, prepMode: TargetTablePrepMode = .dropAndCreate,
                parallelism: Int = 8, createSecondaryObjects: Bool = true, pipeCapacity: Int = 4) {
        self.mappings = mappings
        self.prepMode = prepMode
        self.parallelism = max(1, parallelism)
        self.createSecondaryObjects = createSecondaryObjects
        self.pipeCapacity = pipeCapacity
    }
}

/// Copies every selected table from a source to a target: discovery, table preparation, parallel
/// chunked copies, then indexes and foreign keys. A table that fails is marked failed with its
/// error and the others go on, unless `tableErrorLimit` says to stop.
public struct FullLoadRunner: Sendable {
    public let source: any SourceConnector
    public let target: any TargetConnector
    public let options: FullLoadOptions
    public let status: FullLoadStatus
    let logger: Logger

    public init(source: any SourceConnector, target: any TargetConnector, options: FullLoadOptions,
                status: FullLoadStatus = FullLoadStatus(), logger: Logger = Logger(label: "ferry.full-load")) {
        self.source = source
        self.target = target
        self.options = options
        self.status = status
        self.logger = logger
    }

    struct Job: Sendable {
        var plan: TablePlan
        /// The chunk to copy; nil when every chunk was loaded by an earlier run and only the table's
        /// finishing steps (key, counters, indexes) remain.
        var chunk: ReadChunk?
        /// The value ranges the table is split into, when it is; recorded with its progress.
        var segments: RangeSegments?
        /// Whether an earlier run may have committed part of this chunk: its rows are removed first.
        var resumes = false
        /// The claim its transactions check: the load's, and the chunk's once it is taken (shared chunks).
        var fence: LoadFence?
        /// Whether other nodes were offered the chunk: it is taken before it loads here.
        var shared = false
        var encoding: BatchEncoding
        var order: Int
        var estimatedRows: Int64
    }

    /// Runs the load and returns every table's outcome. Throws when nothing can start (the source cannot
    /// be read or no table matches) or when `tableErrorLimit` tables failed; otherwise per-table failures
    /// are in the result.
    public func run() async throws -> [TableProgress] {
        let (journal, progress) = try await BlockingWork.run("ferry-load-progress") { [self] in try self.openJournal() }
        defer { journal?.close() }
        let plans = try await BlockingWork.run("ferry-discover") { [self] in
            let plans = try self.discoverPlans(alsoSkipping: Set(progress.tables.filter(\.value.finished).keys))
            try self.source.refuseCutOver(plans)
            self.status.warn(self.uncopiedObjects(plans.map(\.source)))
            return plans
        }
        guard !plans.isEmpty else { return status.snapshot() }
        let session = try await BlockingWork.run("ferry-snapshot") { [source, options] in
            if let snapshot = options.snapshot { return try source.openSnapshot(workers: options.parallelism, importing: snapshot) }
            return try source.openSnapshot(workers: options.parallelism)
        }
        defer { session.close() }
        let sharing = await sharingNodes(session)
        defer { if sharing > 1 { withdrawOffer() } }
        let jobs = try await BlockingWork.run("ferry-plan") { [self] in
            try self.prepare(plans, session: session, progress: progress, journal: journal, sharingNodes: sharing)
        }
        await runJobs(jobs, session: session, journal: journal)
        if let stopped = tableErrorStop() { throw stopped }
        await copySequences(plans)
        if options.createSecondaryObjects {
            await createForeignKeys(plans)
        }
        return status.snapshot()
    }

    /// The error that stops the load: a later run took the task over (the target refused a chunk), or
    /// `tableErrorLimit` tables failed, naming them; nil before.
    func tableErrorStop() -> FerryError? {
        if let fence = options.fence, status.snapshot().contains(where: \.fenced) {
            return FerryError.fenced(task: fence.task, epoch: fence.epoch)
        }
        let failed = status.snapshot().filter { $0.state == .failed }
        if let stopping = failed.first(where: \.stopsTask) {
            return FerryError(.dataError, "the load stopped at a refused row (ErrorBehavior.DataErrorPolicy or its escalation STOP_TASK): \(stopping.source): \(stopping.error ?? "failed")")
        }
        guard let limit = options.tableErrorLimit else { return nil }
        guard failed.count >= limit else { return nil }
        return FerryError(.dataError, "the load stopped after \(failed.count) table error\(failed.count == 1 ? "" : "s") (ErrorBehavior stops the task at \(limit)): "
            + failed.map { "\($0.source): \($0.error ?? "failed")" }.joined(separator: "; "))
    }

    /// The journal of a fenced load, and what earlier runs recorded in it when this one resumes; a load
    /// that starts over (all of it, not a reload of some tables) first forgets the earlier progress.
    private func openJournal() throws -> (LoadJournal?, LoadProgress) {
        guard let fence = options.fence else { return (nil, LoadProgress()) }
        let journal = try LoadJournal(target: target, fence: fence)
        do {
            if options.resume {
                let progress = try journal.read()
                let finished = progress.tables.values.filter(\.finished).count
                if !progress.tables.isEmpty {
                    logger.info("the load resumes: \(finished) table\(finished == 1 ? "" : "s") finished earlier, \(progress.tables.count - finished) partly loaded")
                }
                return (journal, progress)
            }
            if options.skipTables.isEmpty { try journal.start(captureStart: options.captureStart) }
            return (journal, LoadProgress())
        } catch {
            journal.close()
            throw error
        }
    }

    /// Discovers the source tables and turns each into a plan; records tables that cannot be planned.
    /// Tables whose key is in `finished` (``LoadProgress/key(of:)``) were loaded by an earlier run and are left out.
    public func discoverPlans(alsoSkipping finished: Set<String> = []) throws -> [TablePlan] {
        let schemas = try source.discoverTables(options.mappings)
        let found = Set(schemas.map(\.id))
        for missing in options.mappings.explicitTables where !found.contains(missing) {
            var progress = TableProgress(source: missing, target: missing, state: .missing)
            progress.error = "source table \(missing) does not exist"
            status.add(progress)
        }
        if schemas.isEmpty, options.mappings.explicitTables.isEmpty, options.skipTables.isEmpty {
            throw FerryError(.notFound, "no source table matched the selection rules")
        }
        let unmatched = options.mappings.unmatchedRules(in: schemas)
        if let literal = unmatched.first(where: \.literal) { throw literal.error }
        status.warn(unmatched.map(\.description))
        var plans: [TablePlan] = []
        var targets: [TableID: TableID] = [:]
        for schema in schemas where !options.skipTables.contains(schema.id) && !finished.contains(LoadProgress.key(of: schema.id)) {
            do {
                let plan = try self.plan(for: schema)
                if let other = targets[plan.target] {
                    throw FerryError(.invalidParameter, "both \(other) and \(schema.id) would load into \(plan.target); add a rename rule")
                }
                targets[plan.target] = schema.id
                plans.append(plan)
                status.add(TableProgress(source: schema.id, target: plan.target))
                if schema.primaryKey.isEmpty {
                    status.update(schema.id) { $0.warnings.append("\(schema.id) has no primary key: it loads, but CDC and validation need one") }
                }
                let notCarried = defaultWarnings(plan.written)
                if !notCarried.isEmpty { status.update(schema.id) { $0.warnings += notCarried } }
            } catch {
                var progress = TableProgress(source: schema.id, target: schema.id, state: .failed)
                progress.error = "\(error)"
                status.add(progress)
            }
        }
        return plans
    }

    /// How the task's mappings and settings load one source table, checked against the target.
    func plan(for schema: TableSchema) throws -> TablePlan {
        var plan = try options.mappings.plan(for: schema)
        plan.target = target.normalize(plan.target)
        plan.lobLimit = lobLimit(of: schema.id)
        if !options.supportLobs {
            let key = plan.keyNames
            plan.columns.removeAll { LobLimit.isLob($0.source.type) && !key.contains($0.source.name) }
        }
        plan.primaryKeyAfterLoad = options.primaryKeyAfterLoad && options.prepMode == .dropAndCreate
        try target.check(plan.written)
        return plan
    }

    /// Prepares target tables and splits each into chunks, largest and highest load-order first. A table
    /// an earlier run loaded part of by value ranges (`progress`) keeps its rows and loads only the chunks
    /// that did not finish; every other table is prepared anew and its split recorded in `journal`. With
    /// more than one `sharingNodes`, tables split into more chunks, and those of value ranges are offered
    /// to the other nodes.
    func prepare(_ plans: [TablePlan], session: any SnapshotSession, progress: LoadProgress, journal: LoadJournal?,
                 sharingNodes: Int = 1) throws -> [Job] {
        var related: [TableID: TablePlan] = [:]
        if options.createSecondaryObjects {
            for plan in plans { related[plan.source.id] = plan.written }
        }
        var jobs: [Job] = []
        for plan in plans {
            let id = plan.source.id
            do {
                let earlier = try resumedChunks(of: plan, progress: progress, session: session)
                if earlier == nil { try target.prepare(plan.written, mode: options.prepMode, related: related) }
                let estimate = try session.estimatedRows(of: plan.source)
                let chunks = try earlier?.chunks ?? self.chunks(of: plan.source, estimate: estimate, session: session, nodes: sharingNodes)
                let loaded = earlier?.loaded ?? [:]
                let resumed = earlier != nil
                let segments = chunks.first?.segments.flatMap { $0.count == chunks.count ? $0 : nil }
                if !resumed { try journal?.began(id, segments: segments) }
                let encoding = self.encoding(for: plan)
                status.update(id) {
                    $0.estimatedRows = estimate
                    $0.chunks = chunks.count
                    $0.chunksDone = loaded.count
                    $0.rowsLoaded = loaded.values.reduce(0, +)
                    $0.passthrough = encoding != .values
                }
                if resumed {
                    logger.info("\(id) resumes: \(loaded.count) of \(chunks.count) chunks were loaded by an earlier run", metadata: ["table": "\(id)"])
                }
                let order = options.mappings.loadOrder(of: id)
                let remaining = chunks.filter { loaded[$0.index] == nil }
                var job = Job(plan: plan, chunk: nil, segments: segments, resumes: resumed, fence: options.fence, encoding: encoding,
                              order: order, estimatedRows: estimate)
                if sharingNodes > 1, let segments, remaining.count > 1, let snapshot = session.sharedSnapshot, let fence = options.fence {
                    try offer(remaining, of: id, segments: segments, snapshot: snapshot, fence: fence, resumes: resumed)
                    job.shared = true
                }
                jobs += remaining.isEmpty ? [job] : remaining.map { chunk in
                    var job = job
                    job.chunk = chunk
                    return job
                }
            } catch {
                fail(id, error)
            }
        }
        return jobs.sorted { ($0.order, $0.estimatedRows, $1.chunk?.index ?? 0) > ($1.order, $1.estimatedRows, $0.chunk?.index ?? 0) }
    }

    /// The chunks of a table an earlier run loaded part of by value ranges, and the rows it committed per
    /// chunk that finished; nil when the table loads anew.
    private func resumedChunks(of plan: TablePlan, progress: LoadProgress, session: any SnapshotSession) throws -> (chunks: [ReadChunk], loaded: [Int: Int64])? {
        guard let earlier = progress.table(plan.source.id), let segments = earlier.segments, !earlier.loadedChunks.isEmpty else { return nil }
        let chunks = try session.chunks(of: plan.source, segments: segments)
        // A source that cannot read the ranges the same way now (MySQL without LOCK TABLES) loads the table anew.
        return chunks.count == segments.count ? (chunks, earlier.loadedChunks) : nil
    }

    /// How the rows of `plan` travel: in the source's own encoding when the target reads it and nothing
    /// changes the values on the way, else as decoded values.
    func encoding(for plan: TablePlan) -> BatchEncoding {
        guard !plan.transformsValues, options.commitRows == nil,
              let native = source.nativeEncodings(for: plan).first(where: { target.accepts($0, for: plan, mode: options.prepMode) }) else { return .values }
        return .native(native)
    }

    /// The table's chunks: the segments of a `ranges` rule, one chunk under `none`, else the source's own
    /// split, into as many more chunks as there are `nodes` to load them.
    private func chunks(of table: TableSchema, estimate: Int64, session: any SnapshotSession, nodes: Int) throws -> [ReadChunk] {
        switch options.mappings.parallelLoad(of: table.id) {
        case let (ruleID, .ranges(segments))?:
            for name in segments.columns where table.column(named: name) == nil {
                throw FerryError.invalidParameter("rule '\(ruleID)'.parallel-load.columns", "column '\(name)' does not exist in \(table.id)")
            }
            return try session.chunks(of: table, segments: segments)
        case let (ruleID, .partitions(names))?:
            return try session.chunks(of: table, partitions: names, field: "rule '\(ruleID)'.parallel-load.partitions")
        case (_, .none)?:
            return [.whole]
        default:
            return try session.chunks(of: table, estimatedRows: estimate, maxChunks: options.chunksPerTable * nodes, chunkBytes: options.chunkBytes)
        }
    }

    private func runJobs(_ jobs: [Job], session: any SnapshotSession, journal: LoadJournal?) async {
        let elsewhere = ChunksElsewhere()
        // Sharing, this node loads a core's worth of chunks at once, as each of the others does.
        let slots = jobs.contains(where: \.shared) ? options.chunksPerTable : options.parallelism
        await withTaskGroup(of: Void.self) { group in
            var pending = jobs[...]
            var running = 0
            while running < slots, tableErrorStop() == nil, let job = pending.popFirst() {
                group.addTask { await self.copy(job, session: session, journal: journal, elsewhere: elsewhere) }
                running += 1
            }
            while await group.next() != nil {
                if Task.isCancelled { break }
                if tableErrorStop() != nil {
                    group.cancelAll()
                    break
                }
                if let job = pending.popFirst() {
                    group.addTask { await self.copy(job, session: session, journal: journal, elsewhere: elsewhere) }
                }
            }
        }
        await awaitChunks(elsewhere, session: session, journal: journal)
        for table in status.snapshot() where !table.state.isFinal {
            status.update(table.source) {
                $0.error = $0.error ?? ($0.state == .queued ? "not started: the load was stopped" : "stopped before the table finished loading")
                $0.state = .cancelled
            }
        }
    }

    /// Copies one chunk here (a shared chunk another node took is left to it, in `elsewhere`), and
    /// finishes the table after its last chunk.
    func copy(_ job: Job, session: any SnapshotSession, journal: LoadJournal?, elsewhere: ChunksElsewhere) async {
        let id = job.plan.source.id
        guard let current = status.get(id), current.state == .queued || current.state == .loading else { return }
        if Task.isCancelled { return }
        var job = job
        if job.shared, let chunk = job.chunk {
            do {
                guard let taken = try await take(chunk, of: job, journal: journal) else {
                    elsewhere.add(job)
                    return
                }
                job = taken
            } catch {
                fail(id, error)
                return
            }
        }
        status.update(id) {
            if $0.startedAt == nil { $0.startedAt = Date() }
            $0.state = .loading
        }
        var cutValues: [String: Int] = [:]
        if let chunk = job.chunk {
            guard let copied = await copy(chunk, of: job, session: session, journal: journal) else { return }
            cutValues = copied.cutValues
            if job.shared { await recordLoaded(chunk, of: id, rows: copied.rows) }
        }
        await chunkDone(job, cutValues: cutValues, journal: journal)
    }

    /// Counts a chunk of the job's table as done, here or on another node, and finishes the table after its last.
    func chunkDone(_ job: Job, cutValues: [String: Int], journal: LoadJournal?) async {
        let id = job.plan.source.id
        var tableDone = false
        status.update(id) {
            for (column, count) in cutValues { $0.cutLobs[column, default: 0] += count }
            if job.chunk != nil { $0.chunksDone += 1 }
            tableDone = $0.chunksDone == $0.chunks && $0.state == .loading
        }
        guard tableDone else { return }
        await finish(job, journal: journal)
    }

    /// What one chunk's copy did: the rows it committed and the LOB values it cut, per column.
    struct CopiedChunk {
        var rows: Int64
        var cutValues: [String: Int]
    }

    /// Copies `chunk` (first removing what an earlier run committed of it) and records it in the journal;
    /// nil when the chunk failed or was stopped (the table is then marked so).
    func copy(_ chunk: ReadChunk, of job: Job, session: any SnapshotSession, journal: LoadJournal?) async -> CopiedChunk? {
        let id = job.plan.source.id
        logger.debug("copying \(id) chunk \(chunk.index + 1)/\(chunk.count)")
        if job.resumes, let journal, let segments = chunk.segments {
            do {
                try await BlockingWork.run("ferry-clear") { try journal.clear(chunk.index, of: segments, from: job.plan.written, under: job.fence?.chunk) }
            } catch {
                fail(id, error)
                return nil
            }
        }
        let pipe: BatchPipe
        var transformer: RowTransformer?
        do {
            transformer = try Self.transformer(for: job.plan)
            pipe = BatchPipe(capacity: options.pipeCapacity, transform: transformer?.batchTransform(header: .fullLoad()))
        } catch {
            fail(id, error)
            return nil
        }
        let status = self.status
        let written = ChunkRowCount()
        var committed = written
        do {
            try await Self.pump(chunk, of: job.plan, encoding: job.encoding, from: session, through: pipe) { [target, options] in
                _ = try target.load(job.plan.written, encoding: job.encoding, from: pipe, commitRows: options.commitRows, fence: job.fence) { rows in
                    written.add(rows)
                    status.update(id) { $0.rowsLoaded += Int64(rows) }
                }
            }
        } catch {
            if Task.isCancelled || (error as? FerryError)?.kind == .cancelled {
                status.update(id) {
                    $0.state = .cancelled
                    $0.error = "stopped after \($0.rowsLoaded) rows; the target table is incomplete"
                    $0.finishedAt = Date()
                }
                return nil
            }
            guard skipsRefusedRows(after: error, job.plan) else {
                fail(id, error)
                return nil
            }
            status.update(id) { $0.rowsLoaded -= written.value }
            let retried = ChunkRowCount()
            committed = retried
            do {
                transformer = try await copySkippingRefusedRows(job, chunk: chunk, session: session, counting: retried)
            } catch {
                fail(id, error)
                return nil
            }
        }
        let rows = committed.value
        if let journal, job.segments != nil {
            do {
                try await BlockingWork.run("ferry-journal") { try journal.loaded(id, chunk: chunk.index, rows: rows, under: job.fence?.chunk) }
            } catch {
                fail(id, error)
                return nil
            }
        }
        return CopiedChunk(rows: rows, cutValues: transformer?.cutValues ?? [:])
    }

    /// Adds the key, moves the counters and builds the indexes of a table whose chunks all loaded, then
    /// records it finished.
    func finish(_ job: Job, journal: LoadJournal?) async {
        let id = job.plan.source.id
        do {
            try await BlockingWork.run("ferry-key") { [target] in try target.addPrimaryKey(job.plan.written) }
        } catch {
            fail(id, FerryError(.database, "the rows loaded, but adding the primary key afterwards (CreatePkAfterFullLoad) failed: \(error)"))
            return
        }
        do {
            try await BlockingWork.run("ferry-counters") { [target] in try target.syncCounters(job.plan.written, next: [:]) }
        } catch {
            status.update(id) { $0.warnings.append("the rows loaded, but moving the table's counters past its highest value failed: \(error)") }
        }
        if options.createSecondaryObjects {
            do {
                try await BlockingWork.run("ferry-index") { [target] in try target.createIndexes(job.plan.written) }
            } catch {
                status.update(id) { $0.warnings.append("secondary indexes: \(error)") }
            }
        }
        if let journal {
            do {
                try await BlockingWork.run("ferry-journal") { try journal.finished(id, segments: job.segments) }
            } catch {
                fail(id, error)
                return
            }
        }
        status.update(id) {
            $0.state = .completed
            $0.finishedAt = Date()
            if $0.skippedRows > 0 {
                let recorded = options.dataErrors.recordsSkippedRows ? " (recorded in \(ApplyExceptionsTable.name))" : ""
                $0.warnings.append("\($0.skippedRows) row\($0.skippedRows == 1 ? "" : "s") of \(id) refused by the target \($0.skippedRows == 1 ? "was" : "were") left out\(recorded), as ErrorBehavior.DataErrorPolicy asks")
            }
            for (column, count) in $0.cutLobs.sorted(by: { $0.key < $1.key }) {
                $0.warnings.append("\(count) value\(count == 1 ? "" : "s") of \(id).\(column) exceeded the LOB limit of \(job.plan.lobLimit.map { $0.bytes / 1024 } ?? 0) KB and \(count == 1 ? "was" : "were") cut to it (limited LOB mode)")
            }
        }
        logger.info("loaded \(id) into \(job.plan.target)", metadata: ["table": "\(id)"])
    }

    /// Reads a chunk into `pipe` on one thread while `write` drains it on another. An error on either side
    /// stops both (the pipe carries it across), and so does cancelling the task.
    static func pump(_ chunk: ReadChunk, of plan: TablePlan, encoding: BatchEncoding, from session: any SnapshotSession,
                     through pipe: BatchPipe, write: @escaping @Sendable () throws -> Void) async throws {
        try await withTaskCancellationHandler {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    try await BlockingWork.run("ferry-read") {
                        do {
                            try session.read(plan, chunk: chunk, encoding: encoding, into: pipe)
                            pipe.finish()
                        } catch {
                            pipe.abort(error)
                            throw error
                        }
                    }
                }
                group.addTask {
                    try await BlockingWork.run("ferry-write") {
                        do {
                            try write()
                        } catch {
                            pipe.abort(error)
                            throw error
                        }
                    }
                }
                try await group.waitForAll()
            }
        } onCancel: {
            pipe.abort(FerryError.cancelled)
        }
    }

    /// The LOB limit of a table: its table-settings rule's `lob-settings`, else the task's.
    func lobLimit(of table: TableID) -> LobLimit? {
        switch options.mappings.lobMode(of: table) {
        case .unlimited?: return nil
        case let .limited(kilobytes)?: return .kilobytes(kilobytes, failsTable: options.lobTruncationFailsTable)
        case .none?, nil: return options.lobLimit
        }
    }

    /// The transformer a chunk's rows go through on the reader's thread (LOB limit, masking, computed
    /// columns), if the plan needs one.
    static func transformer(for plan: TablePlan) throws -> RowTransformer? {
        plan.rewritesRows ? try RowTransformer(plan: plan) : nil
    }

    private func createForeignKeys(_ plans: [TablePlan]) async {
        let completed = status.snapshot().filter { $0.state == .completed }.map(\.source)
        var loaded: [TableID: TablePlan] = [:]
        for plan in plans where completed.contains(plan.source.id) { loaded[plan.source.id] = plan.written }
        let referenceable = loaded
        for plan in loaded.values.sorted(by: { $0.source.id < $1.source.id }) where !plan.source.foreignKeys.isEmpty {
            do {
                try await BlockingWork.run("ferry-fk") { [target] in try target.createForeignKeys(plan, loaded: referenceable) }
            } catch {
                status.update(plan.source.id) { $0.warnings.append("foreign keys: \(error)") }
            }
        }
    }

    func fail(_ id: TableID, _ error: Error) {
        logger.error("\(id): \(error)", metadata: ["table": "\(id)"])
        let stopsTask = (error as? DataErrorEscalation)?.stopsTask
            ?? (options.dataErrors.action == .stopTask && (error as? FerryError)?.kind == .dataError)
        let fenced = (error as? FerryError)?.kind == .fenced
        status.update(id) {
            if stopsTask { $0.stopsTask = true }
            if fenced { $0.fenced = true }
            if $0.state != .failed { $0.error = "\(error)" }
            $0.state = .failed
            $0.finishedAt = Date()
        }
    }

    /// Claims `task` on the target (raising its epoch, as a change-capture run does) for a load whose
    /// transactions are then fenced by that claim.
    public static func claim(task: String, on target: any TargetConnector, controlSchema: String) throws -> LoadFence {
        let applier = try target.openApplier(controlSchema: controlSchema)
        defer { applier.close() }
        return LoadFence(task: task, epoch: try applier.claim(task: task), controlSchema: controlSchema)
    }
}
