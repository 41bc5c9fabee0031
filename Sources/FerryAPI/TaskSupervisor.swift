import FerryCatalog
import FerryCluster
import FerryConnectors
import FerryCore
import FerryEngine
import FerryTelemetry
import Foundation
import Logging

/// What a task run needs: where to read and write, and how.
struct TaskRun: Sendable {
    var arn: String
    var identifier: String
    var source: ConnectionURL
    var target: ConnectionURL
    var options: FullLoadOptions
    /// Whether earlier table statistics are discarded (start-replication, reload-target).
    var fresh: Bool
    /// The task's settings, parsed from the document its user wrote.
    var settings: TaskSettings
    /// `full-load`, `full-load-and-cdc` or `cdc`.
    var migrationType: String
    /// The identifier of the replication instance it runs on.
    var replicationInstance: String
    /// Where a `cdc` run starts (not when resuming) and where any CDC run stops.
    var cdcStart: CdcStart?
    var cdcStop: CdcStop?

    /// Who the run's metrics are about.
    var identity: TaskIdentity {
        TaskIdentity(task: identifier, replicationInstance: replicationInstance, taskID: String(arn.split(separator: ":").last ?? ""),
                     migrationType: migrationType, sourceEngine: source.engine.rawValue, targetEngine: target.engine.rawValue)
    }
}

/// Runs replication tasks in this server and keeps their state in the catalog: status, stop reason,
/// table statistics and task statistics (written every second while running), its metrics, and events.
/// Every run holds the task's claim in the cluster registry; a run whose claim another node took (or
/// that this node gave up) ends without writing anything more about the task.
actor TaskSupervisor {
    let catalog: Catalog
    let node: ClusterNodeIdentity
    let logger: Logger
    let telemetry: Telemetry
    let taskLogs: TaskLogs
    let events: TaskEventRecorder
    let alarms: AlarmSettings
    private var running: [String: Running] = [:]

    private struct Running {
        var work: Task<Void, Never>
        var claim: TaskClaim
        var stopRequested = false
        /// The run ends because this node gives the task up (it drains, or lost its lease): another node
        /// (or this one, later) resumes it, so its end is not recorded.
        var relinquished = false
        var reloads: [TableID] = []
        var revalidations: [TableID] = []
        /// The change stream's status, once change data capture runs.
        var replication: ReplicationStatus?
        /// Where a change-capture run takes ReloadTables' requests.
        var streamReloads: TableReloads?
    }

    init(catalog: Catalog, node: ClusterNodeIdentity, logger: Logger, telemetry: Telemetry, taskLogs: TaskLogs, publisher: EventPublisher,
         alarms: AlarmSettings) {
        self.catalog = catalog
        self.node = node
        self.logger = logger
        self.telemetry = telemetry
        self.taskLogs = taskLogs
        events = TaskEventRecorder(publisher: publisher, taskLogs: taskLogs)
        self.alarms = alarms
    }

    /// The logger a part of a run logs with: into the server's log and the task's own.
    private func logger(_ run: TaskRun, _ component: String) -> Logger {
        taskLogs.logger(for: run.identifier, component: component, base: logger)
    }

    func isActive(_ arn: String) -> Bool { running[arn] != nil }

    /// How many tasks run in this server.
    var activeCount: Int { running.count }

    /// The tasks running in this server.
    var activeTasks: [String] { Array(running.keys) }

    /// The running task's change stream status; nil when it does not stream changes in this server.
    func replicationStatus(_ arn: String) -> ReplicationStatus.Snapshot? { running[arn]?.replication?.snapshot() }

    /// Starts a run; the task's status becomes `running` at once. It takes the task's claim first, unless
    /// the caller took it (`claim`); a task another live node runs is refused.
    func start(_ run: TaskRun, claim: TaskClaim? = nil) throws {
        guard running[run.arn] == nil else { throw DMSError.invalidState("Replication task \(run.identifier) is already running.") }
        guard let claim = try claim ?? node.registry.claim(task: run.arn, node: node.id) else {
            let owner = (try? node.registry.owner(of: run.arn)) ?? nil
            throw DMSError.invalidState("Replication task \(run.identifier) is already running on node \(owner ?? "another node").")
        }
        let now = Date()
        if run.fresh { try catalog.saveTableStatistics([(schema: String, table: String, body: TableStatistics)](), taskArn: run.arn, replacing: true) }
        _ = try catalog.modify(.task, arn: run.arn, as: ReplicationTask.self) { task in
            task.Status = "running"
            task.StopReason = nil
            task.LastFailureMessage = nil
            task.ReplicationTaskStartDate = now
            var stats = task.ReplicationTaskStats ?? ReplicationTaskStats()
            stats.StartDate = now
            stats.StopDate = nil
            stats.FullLoadStartDate = now
            stats.FullLoadFinishDate = nil
            if run.fresh || stats.FreshStartDate == nil { stats.FreshStartDate = now }
            task.ReplicationTaskStats = stats
        }
        record(run.identifier, "Replication task has started.", ["state change"])
        telemetry.task(run.identity).record(status: "running")
        running[run.arn] = Running(work: Task { await self.execute(run, startedAt: now) }, claim: claim)
    }

    /// Asks a running task to stop; it ends `stopped` with "Stop Reason NORMAL".
    func stop(_ arn: String) throws {
        guard var entry = running[arn] else { throw DMSError.invalidState("Replication task is not running.") }
        entry.stopRequested = true
        running[arn] = entry
        let task = try catalog.modify(.task, arn: arn, as: ReplicationTask.self) { $0.Status = "stopping" }
        if let name = task?.ReplicationTaskIdentifier { telemetry.existingTask(name)?.record(status: "stopping") }
        entry.work.cancel()
    }

    /// Queues tables to load again (or, with `validateOnly`, to validate again) once the current pass ends.
    func reload(_ arn: String, tables: [TableID], validateOnly: Bool = false) throws {
        guard var entry = running[arn] else { throw DMSError.invalidState("Replication task is not running; ReloadTables needs a running task.") }
        if validateOnly {
            entry.revalidations += tables
        } else if let streamReloads = entry.streamReloads {
            try recordReloadQueued(arn, tables)
            streamReloads.request(tables)
        } else {
            entry.reloads += tables
        }
        running[arn] = entry
    }

    /// Marks the tables queued for a reload in their statistics before the stream drops them, so a run
    /// that dies at any moment of the reload leaves them unfinished, and the next run loads them again.
    private func recordReloadQueued(_ arn: String, _ tables: [TableID]) throws {
        let queued = try catalog.tableStatistics(taskArn: arn, as: TableStatistics.self).compactMap { stats -> (schema: String, table: String, body: TableStatistics)? in
            guard tables.contains(TableID(schema: stats.SchemaName ?? "", name: stats.TableName ?? "")) else { return nil }
            var stats = stats
            stats.TableState = TableLoadState.queued.rawValue
            stats.FullLoadReloaded = true
            return (stats.SchemaName ?? "", stats.TableName ?? "", stats)
        }
        try catalog.saveTableStatistics(queued, taskArn: arn)
    }

    /// Asks for tables to be validated again by the running task.
    private func revalidate(_ arn: String, _ tables: [TableID]) {
        running[arn]?.revalidations += tables
    }

    /// The tables waiting to be validated again, which the caller now validates.
    private func takeRevalidations(_ arn: String) -> Set<TableID> {
        defer { running[arn]?.revalidations = [] }
        return Set(running[arn]?.revalidations ?? [])
    }

    /// The claims of the tasks running in this server.
    var heldClaims: [TaskClaim] { running.values.map(\.claim) }

    /// Gives up one task (another node took its claim, or it moves) and waits for its run to end.
    func relinquish(_ arn: String) async {
        await giveUp(arn)?.value
    }

    /// Gives up every task this server runs and waits for their runs to end. Their status stays as it
    /// was: whoever claims them next resumes them.
    func relinquishAll() async {
        for work in running.keys.compactMap(giveUp) { await work.value }
    }

    /// Ends a run without recording its end; returns it to wait for.
    private func giveUp(_ arn: String) -> Task<Void, Never>? {
        running[arn]?.relinquished = true
        running[arn]?.work.cancel()
        return running[arn]?.work
    }

    /// What becomes of a task that was running when Ferry stopped, or on a node that left.
    enum Interruption {
        /// It resumes by itself (`resume-processing`).
        case resuming
        /// It resumes here, taken over from another node that stopped renewing its lease or left.
        case moved(from: String)
        /// It was stopping: it ends stopped.
        case stopped
        /// It cannot resume, for this reason.
        case failed(String)
    }

    /// Records, after a restart, what becomes of a task that was running: its status and an event; tables
    /// that were loading or queued are marked cancelled until a run loads them again.
    func recordInterruption(_ task: ReplicationTask, _ outcome: Interruption) throws {
        let arn = task.ReplicationTaskArn!
        let was = task.Status ?? "running"
        let (status, reason, message): (String, String, String)
        switch outcome {
        case .resuming:
            (status, reason) = ("stopped", "Stop Reason RECOVERABLE_ERROR")
            message = "Ferry stopped while the task was \(was); it resumes by itself from where it stopped (resume-processing)."
        case let .moved(from):
            (status, reason) = ("stopped", "Stop Reason RECOVERABLE_ERROR")
            message = "Replication task moved from node \(from) to node \(node.id); it resumes from where it stopped (resume-processing)."
        case .stopped:
            (status, reason) = ("stopped", "Stop Reason NORMAL")
            message = "Replication task has stopped. Ferry stopped while the task was stopping."
        case let .failed(error):
            (status, reason) = ("failed", "Stop Reason RECOVERABLE_ERROR")
            message = "Replication task has failed. Ferry stopped while the task was \(was), and it cannot resume: \(error)"
        }
        _ = try catalog.modify(.task, arn: arn, as: ReplicationTask.self) {
            $0.Status = status
            $0.StopReason = reason
            if case .failed = outcome { $0.LastFailureMessage = message }
            $0.ReplicationTaskStats?.StopDate = Date()
        }
        let unfinished = try catalog.tableStatistics(taskArn: arn, as: TableStatistics.self).filter {
            $0.TableState == TableLoadState.loading.rawValue || $0.TableState == TableLoadState.queued.rawValue
        }
        try catalog.saveTableStatistics(unfinished.map { stats in
            var stats = stats
            stats.TableState = TableLoadState.cancelled.rawValue
            return (stats.SchemaName ?? "", stats.TableName ?? "", stats)
        }, taskArn: arn)
        record(task.ReplicationTaskIdentifier ?? arn, message, [status == "failed" ? "failure" : "state change"])
    }

    private func execute(_ run: TaskRun, startedAt: Date) async {
        var failure: Error?
        if run.migrationType != "full-load", !run.settings.validation.only {
            let (failure, stopReason) = await replicate(run, startedAt: startedAt)
            finish(run, failure: failure, stopReason: stopReason)
            return
        }
        if !run.settings.validation.only {
            failure = await load(run, startedAt: startedAt)
        }
        if failure == nil, run.settings.validation.enabled {
            let loaded = run.settings.validation.only ? nil : completedTables(run.arn)
            failure = await validate(run, only: loaded)
            while failure == nil, let entry = running[run.arn], !entry.stopRequested, !entry.revalidations.isEmpty {
                running[run.arn]?.revalidations = []
                failure = await validate(run, only: Set(entry.revalidations))
            }
        }
        finish(run, failure: failure)
    }

    /// The exchange through which a load of `run` offers its chunks to the other nodes, under this run's claim.
    private func chunkExchange(_ run: TaskRun) -> (any ChunkExchange)? {
        running[run.arn].map {
            CatalogChunkExchange(board: ChunkBoard(catalog: catalog), registry: node.registry, task: run.arn, claimEpoch: $0.claim.epoch, node: node.id)
        }
    }

    /// The full load, then the loads ReloadTables asks for while it runs; returns what stopped it, if anything.
    private func load(_ run: TaskRun, startedAt: Date) async -> Error? {
        var options = run.options
        options.chunkExchange = chunkExchange(run)
        var failure: Error?
        // Claimed on the target first, like a change-capture run: a node that loses the task writes no more rows.
        do {
            options.fence = try await BlockingWork.run("ferry-load-claim") { [options] in
                try FullLoadRunner.claim(task: run.identifier, on: Connectors.target(for: run.target), controlSchema: options.controlSchema)
            }
        } catch {
            return error
        }
        var reloaded: Set<TableID> = []
        let validating = run.settings.validation.enabled
        while true {
            let runner = FullLoadRunner(source: Connectors.source(for: run.source), target: Connectors.target(for: run.target),
                                        options: options, logger: logger(run, "ferry.full-load"))
            let reloadedSoFar = reloaded
            let metrics = telemetry.task(run.identity)
            let monitor = Task { [catalog] in
                while !Task.isCancelled {
                    let tables = runner.status.snapshot()
                    Self.persist(tables, arn: run.arn, startedAt: startedAt, finished: false, reloaded: reloadedSoFar,
                                 validating: validating, catalog: catalog)
                    metrics.record(load: tables)
                    try? await Task.sleep(for: .seconds(1))
                }
            }
            defer { metrics.record(load: runner.status.snapshot()) }
            do {
                let tables = try await runner.run()
                monitor.cancel()
                Self.persist(tables, arn: run.arn, startedAt: startedAt, finished: true, reloaded: reloaded, validating: validating, catalog: catalog)
                events.loadWarnings(run.identifier, runner.status.warnings, tables)
            } catch {
                monitor.cancel()
                Self.persist(runner.status.snapshot(), arn: run.arn, startedAt: startedAt, finished: true, reloaded: reloaded,
                             validating: validating, catalog: catalog)
                failure = error
            }
            guard failure == nil, let entry = running[run.arn], !entry.stopRequested, !entry.reloads.isEmpty else { break }
            // Load the tables ReloadTables asked for, and nothing else.
            let reloads = Set(entry.reloads)
            running[run.arn]?.reloads = []
            reloaded.formUnion(reloads)
            let known = runner.status.snapshot().map(\.source)
            options.skipTables = Set(known).subtracting(reloads)
            options.prepMode = .dropAndCreate
            options.resume = false
        }
        return failure
    }

    /// Full load (for full-load-and-cdc) and change data capture until the task is stopped. Statistics are
    /// written every second; with validation enabled, tables are validated once changes stream, each
    /// differing row compared again after the changes committed before it are applied.
    private func replicate(_ run: TaskRun, startedAt: Date) async -> (Error?, stopReason: String?) {
        var options = ReplicationOptions(task: run.identifier, fullLoad: run.migrationType == "full-load-and-cdc")
        run.settings.apply(to: &options)
        options.fresh = run.fresh
        options.start = run.cdcStart
        options.stop = run.cdcStop
        options.lastSource = SourceIdentityRecord.last(run.arn, catalog: catalog)
        options.writeLease = node.lease
        // A resumed stream continues from the target's position; a load that never finished goes on from
        // the progress the target recorded, so no table is skipped here.
        var load = run.options
        load.skipTables = []
        load.chunkExchange = chunkExchange(run)
        let runner = ReplicationRunner(source: Connectors.source(for: run.source), target: Connectors.target(for: run.target),
                                       load: load, options: options, logger: logger(run, "ferry.cdc"))
        running[run.arn]?.replication = runner.status
        running[run.arn]?.streamReloads = runner.reloads
        let validating = run.settings.validation.enabled
        let metrics = telemetry.task(run.identity)
        let events = self.events
        var alarms = TaskAlarms(self.alarms)
        let monitor = Task { [catalog] in
            var loadRecorded = false
            var warned = false
            var suspended: Set<TableID> = []
            var reloadsRecorded = 0
            var source = options.lastSource
            while !Task.isCancelled {
                let status = runner.status.snapshot()
                source = SourceIdentityRecord.update(status.source, since: source, arn: run.arn, task: run.identifier, catalog: catalog, events: events)
                metrics.record(load: runner.loadStatus.snapshot())
                metrics.record(replication: status)
                if status.phase == .starting || status.phase == .fullLoad {
                    Self.persist(runner.loadStatus.snapshot(), arn: run.arn, startedAt: startedAt, finished: false, reloaded: [],
                                 validating: validating, catalog: catalog)
                } else {
                    if !loadRecorded, !runner.loadStatus.snapshot().isEmpty {
                        let tables = runner.loadStatus.snapshot()
                        Self.persist(tables, arn: run.arn, startedAt: startedAt, finished: true, reloaded: [], validating: validating, catalog: catalog)
                        events.loadWarnings(run.identifier, runner.loadStatus.warnings, tables)
                    } else if !loadRecorded {
                        let interrupted = Self.recordEarlierLoadFinished(arn: run.arn, catalog: catalog, fullLoad: run.migrationType == "full-load-and-cdc")
                        if !interrupted.isEmpty {
                            runner.reloads.request(interrupted)
                            events.record(run.identifier, "The reload of \(interrupted.map(\.description).joined(separator: ", ")) did not finish before the task stopped; it starts again.",
                                          ["state change"])
                        }
                    }
                    loadRecorded = true
                    let reloads = runner.reloads.snapshot()
                    if let reloading = reloads.running {
                        Self.persist(reloading.snapshot(), arn: run.arn, startedAt: startedAt, finished: false, reloaded: reloads.reloaded,
                                     validating: validating, catalog: catalog)
                    } else if reloads.finishedCount > reloadsRecorded, let reloaded = reloads.finished?.snapshot() {
                        reloadsRecorded = reloads.finishedCount
                        Self.persist(reloaded, arn: run.arn, startedAt: startedAt, finished: true, reloaded: reloads.reloaded,
                                     validating: validating, catalog: catalog)
                        for table in reloaded {
                            events.record(run.identifier, "Table \(table.source) was reloaded: \(table.state.rawValue), \(table.rowsLoaded) rows.", ["state change"])
                        }
                        // A reloaded table is validated again, as DMS does.
                        if validating { self.revalidate(run.arn, reloaded.filter { $0.state == .completed }.map(\.source)) }
                    }
                    Self.persistChanges(status, arn: run.arn, catalog: catalog)
                    for message in alarms.evaluate(status, now: Date()) { events.record(run.identifier, message, ["alarm"]) }
                    if let warning = status.retainedWarning, !warned {
                        events.record(run.identifier, "Warning: \(warning).", ["failure"])
                    }
                    warned = status.retainedWarning != nil
                    for (table, reason) in status.suspended where !suspended.contains(table) {
                        suspended.insert(table)
                        events.record(run.identifier, "Table \(table) is suspended: \(reason). Its changes are no longer applied; reload the table (ReloadTables).",
                                      ["failure"])
                    }
                }
                try? await Task.sleep(for: .seconds(1))
            }
        }
        let validation = Task<Error?, Never> {
            guard validating else { return nil }
            while runner.status.snapshot().phase != .changeCapture {
                if Task.isCancelled { return nil }
                try? await Task.sleep(for: .milliseconds(200))
            }
            let status = runner.status
            let settle: @Sendable (Date) async throws -> Void = { moment in try await status.waitUntilApplied(committedBefore: moment) }
            if let failure = await self.validate(run, only: nil, settle: settle) { return failure }
            // Then the tables ReloadTables asks to validate again (and the reloaded ones), until the task stops.
            while !Task.isCancelled {
                let tables = self.takeRevalidations(run.arn)
                if tables.isEmpty {
                    try? await Task.sleep(for: .seconds(1))
                } else if let failure = await self.validate(run, only: tables, settle: settle) {
                    return failure
                }
            }
            return nil
        }
        var failure: Error?
        do { try await runner.run() } catch { failure = error }
        monitor.cancel()
        SourceIdentityRecord.update(runner.status.snapshot().source, since: SourceIdentityRecord.last(run.arn, catalog: catalog),
                                    arn: run.arn, task: run.identifier, catalog: catalog, events: events)
        validation.cancel()
        Self.persistChanges(runner.status.snapshot(), arn: run.arn, catalog: catalog)
        if failure == nil, let error = await validation.value, !(running[run.arn]?.stopRequested ?? false) {
            failure = error
        }
        return (failure, runner.status.snapshot().stopReason)
    }

    /// A stream resumed from the target's position follows a full load that finished: the position is
    /// recorded only once every table loaded. Tables of that load an interrupted run left loading, queued
    /// or cancelled in the statistics (the process died before writing their end) are recorded as loaded
    /// (with `fullLoad`). A ReloadTables load is another matter: the stream ran while it copied, so a
    /// table it left unfinished is incomplete on the target and is returned, to be loaded again.
    static func recordEarlierLoadFinished(arn: String, catalog: Catalog, fullLoad: Bool) -> [TableID] {
        let unfinished = [TableLoadState.loading, .queued, .cancelled].map(\.rawValue)
        do {
            let tables = try catalog.tableStatistics(taskArn: arn, as: TableStatistics.self)
            let interrupted = tables.filter { unfinished.contains($0.TableState ?? "") }
            let reloads = interrupted.filter { $0.FullLoadReloaded == true }.map { TableID(schema: $0.SchemaName ?? "", name: $0.TableName ?? "") }
            guard fullLoad else { return reloads }
            let finished = interrupted.filter { $0.FullLoadReloaded != true }.map { stats in
                var stats = stats
                stats.TableState = TableLoadState.completed.rawValue
                return (schema: stats.SchemaName ?? "", table: stats.TableName ?? "", body: stats)
            }
            guard !finished.isEmpty else { return reloads }
            try catalog.saveTableStatistics(finished, taskArn: arn)
            _ = try catalog.modify(.task, arn: arn, as: ReplicationTask.self) { task in
                task.ReplicationTaskStats?.TablesLoaded = tables.count - reloads.count
                task.ReplicationTaskStats?.TablesLoading = 0
                task.ReplicationTaskStats?.TablesQueued = 0
                task.ReplicationTaskStats?.FullLoadProgressPercent = 100
            }
            return reloads
        } catch {
            Logger(label: "ferry.tasks").error("cannot record the earlier load of \(arn) as finished: \(error)")
            return []
        }
    }

    /// Writes CDC counts into the tables' statistics and the applied position into RecoveryCheckpoint.
    static func persistChanges(_ status: ReplicationStatus.Snapshot, arn: String, catalog: Catalog) {
        let existing = (try? catalog.tableStatistics(taskArn: arn, as: TableStatistics.self)) ?? []
        let tables = Set(status.counts.keys).union(status.ddls.keys).union(status.suspended.keys)
        let rows = tables.map { table in
            let kinds = status.counts[table] ?? [:]
            var stats = existing.first { $0.SchemaName == table.schema && $0.TableName == table.name }
                ?? TableStatistics(SchemaName: table.schema, TableName: table.name)
            stats.Inserts = kinds[.insert] ?? 0
            stats.Updates = kinds[.update] ?? 0
            stats.Deletes = kinds[.delete] ?? 0
            stats.Ddls = (kinds[.truncate] ?? 0) + (status.ddls[table] ?? 0)
            stats.AppliedInserts = stats.Inserts
            stats.AppliedUpdates = stats.Updates
            stats.AppliedDeletes = stats.Deletes
            stats.AppliedDdls = stats.Ddls
            stats.LastUpdateTime = Date()
            if status.suspended[table] != nil { stats.TableState = "Table error" }
            return (schema: table.schema, table: table.name, body: stats)
        }
        do {
            try catalog.saveTableStatistics(rows, taskArn: arn)
            if let position = status.position {
                _ = try catalog.modify(.task, arn: arn, as: ReplicationTask.self) { $0.RecoveryCheckpoint = position }
            }
        } catch {
            Logger(label: "ferry.tasks").error("cannot save change statistics of \(arn): \(error)")
        }
    }

    private func completedTables(_ arn: String) -> Set<TableID> {
        let statistics = (try? catalog.tableStatistics(taskArn: arn, as: TableStatistics.self)) ?? []
        return Set(statistics.filter { $0.TableState == TableLoadState.completed.rawValue }
            .map { TableID(schema: $0.SchemaName ?? "", name: $0.TableName ?? "") })
    }

    /// Validates the task's tables (or `only` these), records each table's validation statistics as it
    /// finishes, and appends the differences to the target's failures table.
    private func validate(_ run: TaskRun, only: Set<TableID>?, settle: (@Sendable (Date) async throws -> Void)? = nil) async -> Error? {
        var options = run.settings.validation.options
        options.settle = settle
        let runner = ValidationRunner(source: Connectors.source(for: run.source), target: Connectors.source(for: run.target),
                                      writer: Connectors.target(for: run.target), mappings: run.options.mappings,
                                      options: options, logger: logger(run, "ferry.validation"))
        record(run.identifier, "Validation has started.", ["state change"])
        let catalog = self.catalog
        let metrics = telemetry.task(run.identity)
        do {
            let results = try await runner.run(only: only) { result in
                Self.persistValidation([result], arn: run.arn, catalog: catalog)
                metrics.record(validation: result.source, failedRows: result.differenceCount, suspendedRows: result.suspendedCount)
            }
            try await ValidationFailuresTable.append(results, task: run.identifier, controlSchema: run.settings.validation.controlSchema,
                                                     target: runner.writer)
            let mismatched = results.filter { !$0.matches }
            record(run.identifier, "Validation has finished: \(results.count - mismatched.count) of \(results.count) tables match"
                + (mismatched.isEmpty ? "." : "; \(mismatched.map { "\($0.source) (\($0.state.rawValue))" }.joined(separator: ", ")) do not."),
                   [mismatched.isEmpty ? "state change" : "failure"])
            return nil
        } catch {
            return error
        }
    }

    /// Writes validation results into the tables' statistics (creating rows for validation-only tasks).
    static func persistValidation(_ results: [TableValidation], arn: String, catalog: Catalog) {
        let existing = (try? catalog.tableStatistics(taskArn: arn, as: TableStatistics.self)) ?? []
        let rows = results.map { result in
            var stats = existing.first { $0.SchemaName == result.source.schema && $0.TableName == result.source.name }
                ?? TableStatistics(SchemaName: result.source.schema, TableName: result.source.name)
            stats.ValidationState = result.state.rawValue
            stats.ValidationFailedRecords = Int(result.differenceCount)
            stats.ValidationPendingRecords = 0
            stats.ValidationSuspendedRecords = Int(result.suspendedCount)
            stats.ValidationStateDetails = result.error
                ?? String(format: "%lld source rows and %lld target rows compared in %.1f s", result.sourceRows, result.targetRows, result.seconds)
            stats.LastUpdateTime = Date()
            return (schema: result.source.schema, table: result.source.name, body: stats)
        }
        do { try catalog.saveTableStatistics(rows, taskArn: arn) } catch {
            Logger(label: "ferry.tasks").error("cannot save validation statistics of \(arn): \(error)")
        }
    }

    private func finish(_ run: TaskRun, failure: Error?, stopReason: String? = nil) {
        guard let entry = running[run.arn] else { return }
        let stopped = entry.stopRequested
        running[run.arn] = nil
        if entry.relinquished || (failure as? FerryError)?.kind == .fenced || !((try? node.registry.holds(task: run.arn, node: node.id, epoch: entry.claim.epoch)) ?? true) {
            logger.info("task \(run.identifier) left node \(node.id)\(failure.map { ": \($0)" } ?? ""); the node that holds it now records it")
            return
        }
        let status: String, reason: String, message: String
        if let stopReason, failure == nil, !stopped {
            (status, reason) = ("stopped", stopReason)
            message = "Replication task has stopped. \(reason)."
        } else if stopped {
            (status, reason) = ("stopped", "Stop Reason NORMAL")
            message = "Replication task has stopped. \(reason)."
        } else if let failure {
            (status, reason) = ("failed", "Stop Reason FATAL_ERROR")
            message = "Replication task has failed. \(failure)"
        } else {
            (status, reason) = ("stopped", "Stop Reason FULL_LOAD_ONLY_FINISHED")
            message = "Replication task has stopped. \(reason)."
        }
        telemetry.task(run.identity).record(status: status)
        do {
            _ = try catalog.modify(.task, arn: run.arn, as: ReplicationTask.self) {
                $0.Status = status
                $0.StopReason = reason
                $0.LastFailureMessage = failure.map { "\($0)" }
                $0.ReplicationTaskStats?.StopDate = Date()
            }
        } catch {
            logger.error("cannot record the end of task \(run.identifier): \(error)")
        }
        record(run.identifier, message, [failure == nil ? "state change" : "failure"])
        do { try node.registry.finish(task: run.arn, node: node.id, epoch: entry.claim.epoch) } catch {
            logger.error("cannot release the claim of task \(run.identifier): \(error)")
        }
    }

    private func record(_ identifier: String, _ message: String, _ categories: [String]) {
        events.record(identifier, message, categories)
    }

    /// Writes table statistics and the task's summary statistics.
    /// `reloaded` marks tables loaded again at ReloadTables' request (DMS's `FullLoadReloaded`); with
    /// `validating`, tables wait for validation ("Pending validation") instead of "Not enabled".
    static func persist(_ tables: [TableProgress], arn: String, startedAt: Date, finished: Bool, reloaded: Set<TableID>,
                        validating: Bool, catalog: Catalog) {
        let now = Date()
        let rows = tables.map { table in
            (schema: table.source.schema, table: table.source.name, body: TableStatistics(
                SchemaName: table.source.schema, TableName: table.source.name, Inserts: 0, Deletes: 0, Updates: 0, Ddls: 0,
                AppliedInserts: 0, AppliedDeletes: 0, AppliedUpdates: 0, AppliedDdls: 0,
                FullLoadRows: Int(table.rowsLoaded), FullLoadCondtnlChkFailedRows: 0, FullLoadErrorRows: 0,
                FullLoadStartTime: table.startedAt, FullLoadEndTime: table.finishedAt, FullLoadReloaded: reloaded.contains(table.source),
                LastUpdateTime: now, TableState: table.state.rawValue, ValidationPendingRecords: 0, ValidationFailedRecords: 0,
                ValidationSuspendedRecords: 0,
                ValidationState: validating ? ValidationState.pendingValidation.rawValue : ValidationState.notEnabled.rawValue,
                ValidationStateDetails: table.error))
        }
        do {
            try catalog.saveTableStatistics(rows, taskArn: arn)
            let all = try catalog.tableStatistics(taskArn: arn, as: TableStatistics.self)
            var summary = LoadSummary(tables)
            // The task's tables across its runs (a reload loads some of them again).
            summary.count(all.compactMap { TableLoadState(rawValue: $0.TableState ?? "") })
            _ = try catalog.modify(.task, arn: arn, as: ReplicationTask.self) { task in
                var stats = task.ReplicationTaskStats ?? ReplicationTaskStats()
                stats.TablesLoaded = summary.loaded
                stats.TablesLoading = summary.loading
                stats.TablesQueued = summary.queued
                stats.TablesErrored = summary.errored
                stats.FullLoadProgressPercent = summary.progressPercent(finished: finished)
                stats.ElapsedTimeMillis = Int(now.timeIntervalSince(startedAt) * 1000)
                if finished { stats.FullLoadFinishDate = now }
                task.ReplicationTaskStats = stats
            }
        } catch {
            Logger(label: "ferry.tasks").error("cannot save statistics of \(arn): \(error)")
        }
    }
}
