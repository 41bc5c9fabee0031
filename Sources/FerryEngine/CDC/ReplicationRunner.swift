import FerryCore
import Foundation
import Logging

/// Settings of change data capture.
public struct ReplicationOptions: Sendable {
    /// The task's name: it names the source's slot and the target's row in `ferry_apply_status`.
    public var task: String
    /// Load the tables first (`full-load-and-cdc`) or only stream changes from now on (`cdc`).
    public var fullLoad: Bool
    /// Schema of `ferry_apply_status` on the target (DMS `ControlTablesSettings.ControlSchema`).
    public var controlSchema: String = ""
    /// How long changes gather at most before they are applied together, in seconds. A batch goes sooner,
    /// as soon as the applier is free (unless `batchesFillWindow`): a stream that keeps up applies each
    /// transaction as it arrives, and under a backlog the batch grows while the applier works.
    public var batchSeconds: Double = 0.1
    /// Every batch gathers for the whole `batchSeconds`, even while the applier waits (DMS
    /// `ChangeProcessingTuning.BatchApplyTimeoutMin`, when the task sets it).
    public var batchesFillWindow = false
    /// At most this many changes go into one target transaction.
    public var maxBatchChanges: Int = 20_000
    /// Start over (drop the capture, load again) even when the target holds a position to resume from.
    public var fresh = false
    /// Above this much retained source log (WAL behind the slot) a warning is logged and shown in the status:
    /// a slot that fills the source's disk is the classic failure of logical replication.
    public var retainedBytesWarning: Int64 = 1 << 30
    /// How often the retained log is measured, in seconds.
    public var retainedCheckSeconds: Double = 30
    /// How often a heartbeat marker is written into the source's stream to measure the lag by its round
    /// trip (the cutover's readiness), in seconds.
    public var heartbeatSeconds: Double = 5
    /// Apply added and dropped columns to the target (DMS `ChangeProcessingDdlHandlingPolicy.HandleSourceTableAltered`);
    /// when false the target keeps its columns and new columns' values are not copied.
    public var applySchemaChanges = true
    /// Apply truncates (DMS `ChangeProcessingDdlHandlingPolicy.HandleSourceTableTruncated`).
    public var applyTruncates = true
    /// Where a `cdc` run starts instead of now (DMS `CdcStartPosition` / `CdcStartTime`); ignored when resuming.
    public var start: CdcStart?
    /// Where the run stops by itself (DMS `CdcStopPosition`).
    public var stop: CdcStop?
    /// Stop once the full load is done, before any change is applied (DMS
    /// `FullLoadSettings.StopTaskCachedChangesNotApplied`), for example to build indexes on the target; the
    /// next run resumes from where the load's snapshot ended.
    public var stopAfterLoad = false
    /// Stop once the changes made during the full load have been applied (DMS
    /// `FullLoadSettings.StopTaskCachedChangesApplied`): at the first transaction that committed after the
    /// load ended, or when the stream has been idle for `cachedIdleSeconds`.
    public var stopAfterCachedChanges = false
    public var cachedIdleSeconds: Double = 2
    /// The source the task's previous run read (the API keeps it): a run that would resume on another
    /// PostgreSQL cluster, whose positions do not continue that one's, stops instead.
    public var lastSource: SourceIdentity?
    /// The lease of the node running the task (`ferry serve`): no batch is applied while it has not been
    /// renewed for long enough that another node may soon take the task. Nil for `ferry migrate`.
    public var writeLease: WriteLease?

    public init(task: String, fullLoad: Bool) {
        self.task = task
        self.fullLoad = fullLoad
    }
}

/// Full load and change data capture with no gap and no duplicate: the capture is created first with an
/// exported snapshot, the load reads that snapshot, and the stream starts where the snapshot ends. Every
/// batch of changes is applied in one target transaction together with its source position, and the
/// source is acknowledged only after that commit; a restart resumes from the target's stored position.
public struct ReplicationRunner: Sendable {
    public let source: any SourceConnector
    public let target: any TargetConnector
    public let load: FullLoadOptions
    public let options: ReplicationOptions
    public let loadStatus: FullLoadStatus
    public let status: ReplicationStatus
    /// Where ReloadTables asks for tables to be loaded again while the stream runs.
    public let reloads = TableReloads()
    let logger: Logger

    public init(source: any SourceConnector, target: any TargetConnector, load: FullLoadOptions, options: ReplicationOptions,
                loadStatus: FullLoadStatus = FullLoadStatus(), status: ReplicationStatus = ReplicationStatus(),
                logger: Logger = Logger(label: "ferry.cdc")) {
        self.source = source
        self.target = target
        self.load = load
        self.options = options
        self.loadStatus = loadStatus
        self.status = status
        self.logger = logger
    }

    /// Where a stream ended: the plans it ended with (column changes applied, tables suspended), the
    /// applier it ended with (a reconnect opens another), and the tables asked to be reloaded, if that is why.
    struct StreamEnd {
        var plans: [TableID: TablePlan]
        var applier: any ChangeApplier
        var reload: [TableID] = []
    }

    /// Runs until the task is cancelled (then returns) or something fails (then throws).
    public func run() async throws {
        let planner = FullLoadRunner(source: source, target: target, options: load, status: FullLoadStatus(), logger: logger)
        let plans = try await BlockingWork.run("ferry-cdc-plan") { [source] in
            let plans = try planner.discoverPlans()
            try source.refuseCutOver(plans)
            return plans
        }
        guard !plans.isEmpty else { throw FerryError(.notFound, "no source table can be replicated") }
        let capture = try source.openCapture(task: options.task, schemas: plans.map(\.source))
        let applier = try await BlockingWork.run("ferry-cdc-open") { [target, options] in try target.openApplier(controlSchema: options.controlSchema) }
        defer { applier.close() }
        // The claim comes before the position is read: an earlier run still writing is refused from here on.
        let epoch = try await BlockingWork.run("ferry-cdc-claim") { [options] in try applier.claim(task: options.task) }
        logger.debug("task \(options.task) claimed on the target with epoch \(epoch)")
        try await identify(capture, since: options.fresh ? nil : options.lastSource)
        // The loads (the first one, and ReloadTables') write under the same claim.
        let fence = LoadFence(task: options.task, epoch: epoch, controlSchema: options.controlSchema)
        let start = try await startingPosition(capture, applier, plans, fence: fence)
        do {
            try await BlockingWork.run("ferry-cdc-take-over") { try capture.takeOver() }
        } catch {
            logger.warning("the earlier reader of task \(options.task)'s capture could not be ended (\(error)); the stream starts once it lets go")
        }
        status.started(at: start)
        let loaded = !loadStatus.snapshot().isEmpty
        let cachedUntil = options.stopAfterCachedChanges && loaded ? Date() : nil
        if options.stopAfterLoad, loaded {
            status.stopped(reason: Self.stoppedAfterLoad)
            status.set(.stopped)
            logger.info("stopped after the full load (StopTaskCachedChangesNotApplied); the next run applies the changes from \(start)")
            return
        }
        status.set(.changeCapture)
        logger.info("streaming changes after \(start)")
        let stop = StopFlag()
        var end = StreamEnd(plans: Dictionary(plans.map { ($0.source.id, $0) }) { a, _ in a }, applier: applier)
        var position = start
        while true {
            let from = position, current = end
            end = try await withTaskCancellationHandler {
                try await BlockingWork.run("ferry-cdc-apply") { [self] in
                    try self.streamReconnecting(capture, current.applier, current.plans, after: from, epoch: epoch, cachedUntil: cachedUntil, stop: stop)
                }
            } onCancel: {
                stop.set()
            }
            // A stream that reached its stop position (or a cutover's marker) is over, reload or not.
            guard !end.reload.isEmpty, !stop.isSet, !Task.isCancelled, status.snapshot().stopReason == nil else { break }
            let applier = end.applier
            position = try await BlockingWork.run("ferry-cdc-position") { [options] in try applier.appliedPosition(task: options.task) } ?? position
            end.plans = try await reload(end.reload, into: end.plans, resumingAfter: position, fence: fence)
            capture.update(columnsOf: end.reload.compactMap { end.plans[$0]?.source })
        }
        if end.applier !== applier { end.applier.close() }
        status.set(.stopped)
    }

    /// Loads tables again while the stream waits (it has applied everything it read, up to `position`):
    /// each is dropped and copied from a snapshot taken now, then the stream resumes after `position`. The
    /// changes between the two reach the copy again; applied as upserts and deletes by key, they converge
    /// on it (ARCHITECTURE §4 rule 1). A table that loaded is applied again even if it was suspended; one
    /// that failed is suspended.
    private func reload(_ tables: [TableID], into plans: [TableID: TablePlan], resumingAfter position: String,
                        fence: LoadFence) async throws -> [TableID: TablePlan] {
        var base = load
        base.snapshot = nil
        base.fence = fence
        base.prepMode = .dropAndCreate
        let reloading = FullLoadStatus()
        reloads.began(reloading, tables)
        defer { reloads.ended() }
        logger.info("reloading \(tables.map(\.description).joined(separator: ", ")); changes wait and resume after \(position)")
        let (fresh, loaded) = try await BlockingWork.run("ferry-cdc-reload-plan") { [source, target, logger, base] in
            var options = base
            options.skipTables = Set(try source.discoverTables(options.mappings).map(\.id)).subtracting(tables)
            let fresh = try FullLoadRunner(source: source, target: target, options: options, status: FullLoadStatus(), logger: logger).discoverPlans()
            return (fresh, options)
        }
        let tablesLoaded = try await FullLoadRunner(source: source, target: target, options: loaded, status: reloading, logger: logger).run()
        var plans = plans
        for table in tablesLoaded {
            if table.state == .completed, let plan = fresh.first(where: { $0.source.id == table.source }) {
                plans[table.source] = plan
                status.resume(table.source)
                logger.info("\(table.source) reloaded: \(table.rowsLoaded) rows; its changes are applied again", metadata: ["table": "\(table.source)"])
            } else {
                try suspend(table.source, "its reload failed: \(table.error ?? table.state.rawValue)", &plans)
            }
        }
        return plans
    }

    /// DMS's stop reason for a run that stops after its full load.
    public static let stoppedAfterLoad = "Stop Reason STOPPED_AFTER_FULL_LOAD"
    /// DMS's stop reason for a run that stops once the changes made during its load are applied.
    public static let stoppedAfterCachedChanges = "Stop Reason STOPPED_AFTER_CACHED_EVENTS"
    /// Ferry's stop reason for a run a cutover ended at the moment the source's writes were frozen.
    public static let stoppedForCutover = "Stop Reason STOPPED_FOR_CUTOVER"

    /// Streams, and when a connection to either database breaks (a restart, a cut network), reconnects
    /// with growing pauses (1 s doubling to 30 s) and resumes from the position the target holds. A new
    /// connection to the target goes on with the run's claim (`epoch`); it never claims again, so a run
    /// that was taken over stays refused.
    private func streamReconnecting(_ capture: any ChangeCapture, _ applier: any ChangeApplier, _ plans: [TableID: TablePlan],
                                    after start: String, epoch: Int64, cachedUntil: Date?, stop: StopFlag) throws -> StreamEnd {
        var end = StreamEnd(plans: plans, applier: applier)
        var position = start
        var pause = 1.0
        while true {
            do {
                try stream(capture, end.applier, &end.plans, after: position, cachedUntil: cachedUntil, stop: stop)
                end.reload = reloads.take()
                return end
            } catch let error as FerryError where error.kind == .connectionFailed && !stop.isSet {
                logger.warning("change data capture lost a connection (\(error)); reconnecting in \(Int(pause)) s")
                status.reconnecting()
                let until = Date().addingTimeInterval(pause)
                while Date() < until, !stop.isSet { Thread.sleep(forTimeInterval: 0.1) }
                if stop.isSet { return end }
                pause = min(30, pause * 2)
                do {
                    end.applier = try target.openApplier(controlSchema: options.controlSchema)
                    end.applier.hold(task: options.task, epoch: epoch)
                    // A run that a later one took over ends here rather than reading again.
                    try end.applier.verifyClaim()
                    position = try end.applier.appliedPosition(task: options.task) ?? position
                    // Still the owner: a reader the source still sees is this run's own lost connection (after a
                    // network cut the server notices only at its wal_sender_timeout), so it is ended now.
                    do { try capture.takeOver() } catch { logger.warning("the stream's earlier reader could not be ended yet: \(error)") }
                    try identify(capture, since: status.snapshot().source)
                } catch let error as FerryError where error.kind == .connectionFailed {
                    logger.warning("not reachable yet: \(error)")
                }
            }
        }
    }

    /// Asks the source who it is and records it; a failover since `earlier` is logged, another PostgreSQL
    /// cluster stops the run (``FerryError/Kind/captureLost``): its positions do not continue the earlier one's.
    private func identify(_ capture: any ChangeCapture, since earlier: SourceIdentity?) async throws {
        try await BlockingWork.run("ferry-cdc-identify") { try identify(capture, since: earlier) }
    }

    private func identify(_ capture: any ChangeCapture, since earlier: SourceIdentity?) throws {
        guard let identity = try capture.identity() else { return }
        switch earlier.flatMap(identity.change(since:)) {
        case let .unrelated(why)?:
            throw FerryError(.captureLost, "\(why): the positions task \(options.task) holds do not continue there. Copy everything again: "
                + "StartReplicationTask with reload-target (a task of ferry serve), or ferry migrate with a new --task")
        case let .failover(what)?:
            logger.warning("\(what); the stream goes on from the position the target holds")
        case nil:
            break
        }
        status.identified(identity)
    }

    /// Where the stream starts: the target's stored position when the capture still exists; where an
    /// earlier run's full load began, once the rest of that load is done, when it stopped part-way; otherwise
    /// a new capture, after the full load of its snapshot (or right away in `cdc` mode).
    private func startingPosition(_ capture: any ChangeCapture, _ applier: any ChangeApplier, _ plans: [TablePlan],
                                  fence: LoadFence) async throws -> String {
        let (applied, exists) = try await BlockingWork.run("ferry-cdc-position") { [options] in
            (try applier.appliedPosition(task: options.task), try capture.exists())
        }
        if let applied, exists, !options.fresh {
            try await BlockingWork.run("ferry-cdc-resume-check") { try capture.checkResume(after: applied) }
            return applied
        }
        if let applied, !exists, !options.fresh {
            // A new capture would start at the source's present: the changes since `applied` would be skipped without a word.
            throw FerryError(.captureLost, "the source no longer has task \(options.task)'s change capture, though the target has applied up to \(applied): "
                + "the changes made since cannot be read. Copy everything again: StartReplicationTask with reload-target (a task of ferry serve), "
                + "or ferry migrate with a new --task")
        }
        if options.fullLoad, exists, !options.fresh,
           let begun = try await BlockingWork.run("ferry-cdc-load-progress", { [options] in LoadProgress(rows: try applier.loadProgress(task: options.task)).startPosition }) {
            try await BlockingWork.run("ferry-cdc-resume-check") { try capture.checkResume(after: begun) }
            logger.info("the full load stopped part-way; the rest loads now, then changes stream from where it began (\(begun))")
            return try await load(resuming: true, snapshot: nil, meeting: begun, applier, fence: fence)
        }
        if let start = options.start, !options.fullLoad { return try await startingPosition(capture, applier, plans, at: start, exists: exists) }
        if exists, !options.fullLoad, let held = try await BlockingWork.run("ferry-cdc-held", { try capture.userCapturePosition() }) {
            // A slot named by the user keeps its place: the stream starts where it stands.
            return try await startingPosition(capture, applier, plans, at: .position(held), exists: true)
        }
        let created = try await BlockingWork.run("ferry-cdc-create") { [options] in
            // An earlier load's progress belongs to the capture dropped here: forgotten first, it can never
            // send a later run to a start this capture cannot give.
            try applier.saveLoadProgress([], task: options.task, replacing: .task)
            if exists { try capture.drop() }
            return try capture.create(tables: plans.map(\.source.id))
        }
        guard options.fullLoad else { return try await recordStart(created.position, applier) }
        return try await load(resuming: false, snapshot: created.snapshot, meeting: created.position, applier, fence: fence)
    }

    /// Runs the full load (or, `resuming`, what an earlier run left of it) from `snapshot` (nil: one taken
    /// now, which the changes from `position` on converge with) and records `position` as the stream's start.
    private func load(resuming: Bool, snapshot: String?, meeting position: String, _ applier: any ChangeApplier,
                      fence: LoadFence) async throws -> String {
        status.set(.fullLoad)
        var load = self.load
        load.snapshot = snapshot
        load.fence = fence
        load.resume = resuming
        load.captureStart = position
        // The stream's applier waits for the load's end: its connection is let go meanwhile.
        applier.idle()
        let tables = try await FullLoadRunner(source: source, target: target, options: load, status: loadStatus, logger: logger).run()
        let unfinished = tables.filter { $0.state != .completed }
        guard unfinished.isEmpty, !Task.isCancelled else {
            throw FerryError(.database, "the full load did not finish (\(unfinished.map { "\($0.source): \($0.error ?? $0.state.rawValue)" }.joined(separator: "; "))); changes are not applied to an incomplete copy")
        }
        return try await recordStart(position, applier)
    }

    /// The target records where the stream starts, so that a restart resumes there.
    private func recordStart(_ position: String, _ applier: any ChangeApplier) async throws -> String {
        var start = ChangeBatch(plans: [:])
        try start.add(ChangeTransaction(position: position, commitTime: Date(), changes: []))
        let marker = start
        try await BlockingWork.run("ferry-cdc-mark") { [options] in try applier.apply(marker, task: options.task) }
        return position
    }

    /// The position the user gave (checked against what the source holds), or the one from which changes
    /// at or after the start time can be read; recorded on the target so that a restart resumes there.
    private func startingPosition(_ capture: any ChangeCapture, _ applier: any ChangeApplier, _ plans: [TablePlan],
                                  at start: CdcStart, exists: Bool) async throws -> String {
        try await BlockingWork.run("ferry-cdc-start") { [options] in
            if !exists { _ = try capture.create(tables: plans.map(\.source.id)) }
            let position: String
            switch start {
            case let .position(given):
                try capture.checkStart(at: given)
                position = given
            case let .time(time):
                position = try capture.position(before: time)
            }
            var marker = ChangeBatch(plans: [:])
            try marker.add(ChangeTransaction(position: position, commitTime: Date(), changes: []))
            try applier.apply(marker, task: options.task)
            return position
        }
    }

    /// Reads transactions and applies them in batches, returning when stopped or when tables are to be
    /// reloaded (everything read is applied first). `bySource` are the tables' plans, which column changes
    /// and suspensions update. Reading and applying overlap:
    /// an applier thread applies one batch while this thread gathers the next (at most one batch waits
    /// between them). This thread owns the replication connection, so it also acknowledges each position
    /// the applier has committed.
    private func stream(_ capture: any ChangeCapture, _ applier: any ChangeApplier, _ bySource: inout [TableID: TablePlan],
                        after start: String, cachedUntil: Date?, stop: StopFlag) throws {
        // Refused rows are narrowed down by halves: inside a large source transaction, each batch must be undone alone.
        applier.undoesRefusedBatchesAlone = load.dataErrors.action == .skipRow
        try capture.start(after: start)
        var transformers = try transformers(for: &bySource)
        let handoff = BatchHandoff()
        let applying = Thread { [self, options, status] in
            var skipped: [TableID: SkippedRows] = [:]
            // Whether the target transaction holds batches of a source transaction not yet complete.
            var insideTransaction = false
            while let batch = handoff.take() {
                // A stopped run (stopped, or given up by its node) applies nothing more: the next run reads it again.
                guard mayApply(unless: stop) else { continue }
                let started = Date()
                do {
                    do {
                        try applier.apply(batch, task: options.task)
                    } catch let error as FerryError where error.kind == .dataError && load.dataErrors.action == .skipRow {
                        try applySkippingRefusedRows(batch, applier, inside: insideTransaction || batch.endsInsideTransaction, skipped: &skipped)
                    }
                    insideTransaction = batch.endsInsideTransaction
                    if !insideTransaction { try recordSkipped(&skipped) }
                } catch {
                    handoff.fail(error)
                    return
                }
                status.applied(batch, seconds: Date().timeIntervalSince(started))
                // Until the source transaction's last part commits, nothing of this batch is committed.
                if !insideTransaction { handoff.committed(batch.position) }
            }
        }
        applying.name = "ferry-cdc-apply"
        applying.start()
        // Whatever ends this stream, the applier finishes its batch first: a reconnected stream must not
        // apply older changes concurrently with it. A source transaction it applied only part of is rolled
        // back: the next stream reads it again from its start.
        defer {
            handoff.close()
            try? handoff.waitUntilDrained()
            applier.rollback()
        }
        var acknowledged: String?
        var lastRetainedCheck = Date.distantPast
        var heartbeats = Heartbeats(task: options.task, every: options.heartbeatSeconds)
        func acknowledgeCommitted() throws {
            if let position = handoff.committedPosition, position != acknowledged {
                try capture.acknowledge(position)
                acknowledged = position
            }
        }
        // Set when the run reaches where it was asked to stop: DMS's stop reason.
        var reached: String?
        var lastTransaction = Date()
        var changeNumber = 0
        while !stop.isSet, reached == nil, !reloads.hasPending {
            if Date().timeIntervalSince(lastRetainedCheck) >= options.retainedCheckSeconds {
                lastRetainedCheck = Date()
                checkRetained(capture)
            }
            heartbeats.beat(source, status)
            var batch = ChangeBatch(plans: bySource, transformers: transformers)
            let deadline = Date().addingTimeInterval(options.batchSeconds)
            while !stop.isSet, reached == nil, batch.changeCount < options.maxBatchChanges {
                try acknowledgeCommitted()
                let remaining = deadline.timeIntervalSinceNow
                if remaining <= 0 { break }
                if let bound = options.stop, case let .serverTime(moment) = bound, Date() >= moment {
                    reached = bound.stopReason
                    break
                }
                // The applier is free: what has gathered goes now.
                let eager = !options.batchesFillWindow && !batch.isEmpty
                if eager, handoff.isIdle { break }
                guard var transaction = try capture.next(timeout: min(remaining, eager ? 0.005 : 0.5)) else {
                    // Nothing more arrives: the changes made during the load are all applied.
                    if cachedUntil != nil, batch.isEmpty, handoff.isIdle, Date().timeIntervalSince(lastTransaction) >= options.cachedIdleSeconds {
                        reached = Self.stoppedAfterCachedChanges
                    }
                    continue
                }
                lastTransaction = Date()
                if let bound = options.stop, case let .commitTime(moment) = bound, transaction.commitTime > moment {
                    reached = bound.stopReason
                    break
                }
                if let cachedUntil, transaction.commitTime > cachedUntil {
                    reached = Self.stoppedAfterCachedChanges
                    break
                }
                if case let .time(time)? = options.start, transaction.commitTime < time {
                    transaction.changes = []
                    transaction.schemaChanges = []
                }
                if !options.applyTruncates { transaction.changes.removeAll { $0.kind == .truncate } }
                if transaction.schemaChanges.contains(where: { bySource[$0.table] != nil }) {
                    // Changes before the DDL are applied under the old columns, the rest under the new.
                    if !batch.isEmpty { try handoff.put(batch) }
                    try handoff.waitUntilDrained()
                    // Stopped meanwhile, the changes before it may not all be applied: the next run alters the target.
                    if stop.isSet { return }
                    try alter(&bySource, transaction.schemaChanges, applier)
                    capture.update(columnsOf: transaction.schemaChanges.compactMap { bySource[$0.table]?.source })
                    transformers = try self.transformers(for: &bySource)
                    batch = ChangeBatch(plans: bySource, transformers: transformers)
                }
                status.read(transaction)
                transaction.firstChangeNumber = changeNumber
                changeNumber += transaction.changes.count
                try batch.add(transaction)
                if transaction.marker?.stops(options.task) == true {
                    // A cutover froze the source's writes and wrote this: everything before it is applied, nothing after.
                    reached = Self.stoppedForCutover
                }
            }
            for (table, transformer) in transformers where !transformer.cutValues.isEmpty {
                status.lobsCut(table, transformer.cutValues)
            }
            try handoff.check()
            guard !batch.isEmpty else {
                if handoff.isIdle { status.idle() }
                continue
            }
            try handoff.put(batch)
        }
        handoff.close()
        try handoff.waitUntilDrained()
        try acknowledgeCommitted()
        if let reached {
            status.stopped(reason: reached)
            logger.info("stopped by itself (\(reached))")
        }
    }

    /// Whether the stream may apply its next batch: not once stopped, and only while the node's lease
    /// allows writes. Past that it waits for a renewal, or for the stop that comes when there is none.
    private func mayApply(unless stop: StopFlag) -> Bool {
        guard let lease = options.writeLease, !lease.allowsWrites() else { return !stop.isSet }
        logger.warning("this node has not renewed its lease for \(Int(lease.secondsSinceRenewal())) s: no change is applied until it renews, or until another node takes the task")
        return lease.waitForWrites(unless: stop)
    }
}

extension ReplicationRunner {
    /// Applies column changes to the target and the plans: added and dropped columns (unless the task says
    /// not to), and a suspended table for anything else, whose changes are no longer applied.
    func alter(_ plans: inout [TableID: TablePlan], _ changes: [SchemaChange], _ applier: any ChangeApplier) throws {
        for change in changes {
            guard var plan = plans[change.table] else { continue }
            status.schemaChanged(change.table)
            switch change.kind {
            case let .unsupported(what):
                try suspend(change.table, "\(what), which Ferry does not apply", &plans)
                continue
            case let .dropColumn(name) where plan.keyNames.contains(name):
                try suspend(change.table, "its key column \(name) was dropped", &plans)
                continue
            case _ where !options.applySchemaChanges:
                logger.info("not applied to the target (HandleSourceTableAltered is false): \(change.description)")
                continue
            case let .addColumn(logged):
                let column = catalogColumn(logged, of: change.table)
                try applier.alter(plan, SchemaChange(table: change.table, kind: .addColumn(column)))
                plan.source.columns.append(column)
                plan.columns.append(ColumnPlan(source: column, targetName: column.name))
            case let .dropColumn(name):
                try applier.alter(plan, change)
                plan.source.columns.removeAll { $0.name == name }
                plan.columns.removeAll { $0.source.name == name }
            }
            plans[change.table] = plan
            logger.info("applied to the target: \(change.description)")
        }
    }

    /// A row transformer per table that masks or computes columns. A table whose expressions no longer
    /// compile (a column they read was dropped) is suspended.
    func transformers(for plans: inout [TableID: TablePlan]) throws -> [TableID: RowTransformer] {
        var transformers: [TableID: RowTransformer] = [:]
        for (table, plan) in plans where plan.rewritesRows {
            do {
                transformers[table] = try RowTransformer(plan: plan)
            } catch {
                try suspend(table, "\(error)", &plans)
            }
        }
        return transformers
    }

    /// A column the log says was added, as the source's catalog describes it now: its exact type and its
    /// default, which the rows already there got without any row change in the log. It stays nullable, so
    /// that adding it to a target table that has rows cannot fail.
    private func catalogColumn(_ logged: Column, of table: TableID) -> Column {
        guard let current = try? source.discover(.exactly([table])).first?.column(named: logged.name) else { return logged }
        var column = current
        column.nullable = true
        return column
    }

    /// Stops applying a table's changes; when table errors stop the task (the load's `tableErrorLimit`,
    /// DMS `TableErrorPolicy` STOP_TASK), stops the run instead.
    private func suspend(_ table: TableID, _ reason: String, _ plans: inout [TableID: TablePlan]) throws {
        if load.tableErrorLimit != nil {
            throw FerryError(.schemaMismatch, "\(table): \(reason); ErrorBehavior.TableErrorPolicy STOP_TASK stops the task")
        }
        plans[table] = nil
        status.suspend(table, reason: reason)
        logger.warning("\(table) is suspended: \(reason); its changes are no longer applied until the table is reloaded", metadata: ["table": "\(table)"])
    }

    /// Measures the log the source keeps for this capture and warns when it passes the threshold.
    func checkRetained(_ capture: any ChangeCapture) {
        guard let bytes = try? capture.retainedBytes() else { return }
        let warning = bytes > options.retainedBytesWarning
            ? "the source keeps \(bytes / (1 << 20)) MB of log for this task (more than \(options.retainedBytesWarning / (1 << 20)) MB): the target is far behind, or the task was stopped for long; the source's disk fills if this goes on"
            : nil
        if let warning, status.snapshot().retainedWarning == nil { logger.warning("\(warning)") }
        status.retained(bytes, warning: warning)
    }
}

/// Writes a heartbeat marker into the source's stream now and then; the status times each one's round
/// trip when its batch is applied. An engine without markers is said once and not asked again.
struct Heartbeats {
    let task: String
    let every: Double
    private var last = Date.distantPast
    private var number = 0
    private var unavailable = false

    init(task: String, every: Double) {
        self.task = task
        self.every = every
    }

    mutating func beat(_ source: any SourceConnector, _ status: ReplicationStatus) {
        guard !unavailable, Date().timeIntervalSince(last) >= every else { return }
        guard source.engine != .sqlite else {
            // A write into the file every few seconds held the application's writers up under load in the tests.
            unavailable = true
            status.markersUnavailable("a SQLite source gets no heartbeat markers, so that Ferry never competes with the application for the file's write lock")
            return
        }
        last = Date()
        number += 1
        let name = "heartbeat-\(number)"
        do {
            _ = try source.writeMarker(StreamMarker(.sync, task: task, cutover: name), task: task)
            status.heartbeat(name, writtenAt: last)
        } catch let error as FerryError where error.kind == .invalidParameter {
            unavailable = true
            status.markersUnavailable(error.message)
        } catch {
            // The source is out of reach: the stream says so; the next beat tries again.
        }
    }
}

/// Passes batches from the reading thread to the applying thread, one waiting at most, and the applied
/// position or the apply's error back.
final class BatchHandoff: @unchecked Sendable {
    private let condition = NSCondition()
    private var waiting: ChangeBatch?
    private var busy = false
    private var closed = false
    private var error: Error?
    private(set) var committed: String?

    /// Hands a batch over, blocking while the previous one still waits.
    func put(_ batch: ChangeBatch) throws {
        condition.lock()
        defer { condition.unlock() }
        while waiting != nil, error == nil { condition.wait() }
        if let error { throw error }
        waiting = batch
        condition.broadcast()
    }

    /// The next batch for the applier; nil once closed and empty.
    func take() -> ChangeBatch? {
        condition.lock()
        defer { condition.unlock() }
        busy = false
        condition.broadcast()
        while waiting == nil, !closed { condition.wait() }
        guard let batch = waiting else { return nil }
        waiting = nil
        busy = true
        condition.broadcast()
        return batch
    }

    func committed(_ position: String?) {
        condition.lock()
        if let position { committed = position }
        condition.unlock()
    }

    var committedPosition: String? {
        condition.lock()
        defer { condition.unlock() }
        return committed
    }

    /// No batch waits and none is being applied.
    var isIdle: Bool {
        condition.lock()
        defer { condition.unlock() }
        return waiting == nil && !busy
    }

    func fail(_ error: Error) {
        condition.lock()
        self.error = error
        condition.broadcast()
        condition.unlock()
    }

    /// Throws the applier's error, if it failed.
    func check() throws {
        condition.lock()
        defer { condition.unlock() }
        if let error { throw error }
    }

    func close() {
        condition.lock()
        closed = true
        condition.broadcast()
        condition.unlock()
    }

    /// Waits until the applier has applied everything handed over (or failed).
    func waitUntilDrained() throws {
        condition.lock()
        defer { condition.unlock() }
        while (waiting != nil || busy), error == nil { condition.wait() }
        if let error { throw error }
    }
}
