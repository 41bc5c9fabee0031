import FerryCatalog
import FerryCluster
import FerryConnectors
import FerryCore
import FerryEngine
import Foundation

extension DMSService {
    static let migrationTypes = ["full-load", "cdc", "full-load-and-cdc"]

    func task(_ arn: String?) throws -> ReplicationTask {
        guard let arn, let task = try catalog.get(.task, arn: arn, as: ReplicationTask.self) else {
            throw DMSError.notFound("Replication task \(arn ?? "") not found.")
        }
        return task
    }

    /// Checks a migration type: full-load, full-load-and-cdc or cdc (every source engine has change capture).
    func validateMigrationType(_ type: String?) throws -> String {
        guard let type, Self.migrationTypes.contains(type) else {
            throw DMSError.invalidParameter("MigrationType must be one of \(Self.migrationTypes.joined(separator: ", ")); got '\(type ?? "")'.")
        }
        return type
    }

    /// Tells, as an event, which of the task's settings Ferry accepts but does not act on yet.
    func reportUnhonoured(_ settings: TaskSettings, task identifier: String) {
        guard !settings.unhonoured.isEmpty else { return }
        event(identifier, type: "replication-task",
              "ReplicationTaskSettings sets \(settings.unhonoured.joined(separator: ", ")), which Ferry accepts but does not honour yet (docs/task-settings.md).",
              categories: ["configuration change"])
    }

    /// Parses a ReplicationTaskSettings document the caller sent, or one revised from the task's current settings.
    func parseSettings(_ parse: () throws -> TaskSettings) throws -> TaskSettings {
        do { return try parse() } catch let error as FerryError {
            throw DMSError.invalidParameter("Invalid task settings JSON: \(error.message).")
        }
    }

    /// A task's settings, parsed from the document its user wrote (kept beside the task, which shows the
    /// effective document); a task stored before the two were kept apart has its user's document recovered.
    func settings(of task: ReplicationTask) throws -> TaskSettings {
        try parseSettings {
            if let user = try catalog.document(Self.userSettingsDocument, for: task.ReplicationTaskArn!) { return try TaskSettings(user) }
            return try TaskSettings.recovered(fromEffective: task.ReplicationTaskSettings ?? "")
        }
    }

    /// The catalog document that holds a task's ReplicationTaskSettings as the user wrote them.
    static let userSettingsDocument = "user-task-settings"

    func parseMappings(_ json: String?) throws -> TableMappings {
        do { return try TableMappings(json: json ?? "") } catch let error as FerryError {
            throw DMSError.invalidParameter("Invalid Table Mappings document: \(error.message)")
        }
    }

    /// The endpoints a task (or a serverless replication) copies between, each of the right type.
    func endpointPair(_ sourceArn: String?, _ targetArn: String?) throws -> (source: Endpoint, target: Endpoint) {
        let source = try endpoint(sourceArn)
        let target = try endpoint(targetArn)
        guard source.EndpointType == "SOURCE" else {
            throw DMSError.invalidParameter("SourceEndpointArn \(source.EndpointIdentifier!) is a target endpoint.")
        }
        guard target.EndpointType == "TARGET" else {
            throw DMSError.invalidParameter("TargetEndpointArn \(target.EndpointIdentifier!) is a source endpoint.")
        }
        return (source, target)
    }

    func createTask(_ input: CreateReplicationTaskMessage, _ context: RequestContext) throws -> CreateReplicationTaskResponse {
        let identifier = input.ReplicationTaskIdentifier ?? ""
        try ResourceNames.validate(identifier, field: "ReplicationTaskIdentifier", maxLength: 255)
        let (source, target) = try endpointPair(input.SourceEndpointArn, input.TargetEndpointArn)
        _ = try instance(input.ReplicationInstanceArn)
        let type = try validateMigrationType(input.MigrationType)
        _ = try parseMappings(input.TableMappings)
        let settings = try parseSettings { try TaskSettings(input.ReplicationTaskSettings) }
        let bounds = try CdcBoundsInput(startTime: input.CdcStartTime, startPosition: input.CdcStartPosition,
                                        stopPosition: input.CdcStopPosition, migrationType: type)
        let id = input.ResourceIdentifier ?? ResourceNames.randomID()
        let arn = ResourceNames.arn(region: context.region, account: context.account, type: "task", id: id)
        var task = ReplicationTask(
            ReplicationTaskIdentifier: identifier, SourceEndpointArn: source.EndpointArn, TargetEndpointArn: target.EndpointArn,
            ReplicationInstanceArn: input.ReplicationInstanceArn, MigrationType: type, TableMappings: input.TableMappings,
            ReplicationTaskSettings: settings.effectiveJSON, Status: "ready", ReplicationTaskCreationDate: Date(),
            CdcStartPosition: bounds.start, CdcStopPosition: bounds.stop, ReplicationTaskArn: arn,
            TaskData: input.TaskData)
        try checkQuota("ReplicationTasks")
        try insert(.task, arn: arn, identifier: identifier, task)
        try catalog.setDocument(settings.userJSON, name: Self.userSettingsDocument, for: arn)
        try storeTags(input.Tags, for: arn)
        event(identifier, type: "replication-task", "Replication task has been created.", categories: ["creation"])
        reportUnhonoured(settings, task: identifier)
        task.Status = "creating"
        return CreateReplicationTaskResponse(ReplicationTask: task)
    }

    func describeTasks(_ input: DescribeReplicationTasksMessage) throws -> DescribeReplicationTasksResponse {
        let filters = try FilterSet(input.Filters, allowed: ["replication-task-arn", "replication-task-id", "migration-type", "endpoint-arn", "replication-instance-arn"])
        let page = try Page(marker: input.Marker, maxRecords: input.MaxRecords)
        let matching = try catalog.list(.task, as: ReplicationTask.self).filter { task in
            filters.filters.allSatisfy { name, values in
                let candidates: [String?]
                switch name {
                case "replication-task-arn": candidates = [task.ReplicationTaskArn]
                case "replication-task-id": candidates = [task.ReplicationTaskIdentifier]
                case "migration-type": candidates = [task.MigrationType]
                case "endpoint-arn": candidates = [task.SourceEndpointArn, task.TargetEndpointArn]
                default: candidates = [task.ReplicationInstanceArn]
                }
                return candidates.contains { candidate in values.contains { $0 == candidate } }
            }
        }
        if matching.isEmpty, !filters.isEmpty { throw DMSError.notFound("No Tasks found matching provided filters") }
        var (items, marker) = page.slice(matching)
        if input.WithoutSettings == true {
            items = items.map { task in
                var task = task
                task.TableMappings = nil
                task.ReplicationTaskSettings = nil
                return task
            }
        }
        return DescribeReplicationTasksResponse(Marker: marker, ReplicationTasks: items)
    }

    func modifyTask(_ input: ModifyReplicationTaskMessage) async throws -> ModifyReplicationTaskResponse {
        let current = try task(input.ReplicationTaskArn)
        let arn = current.ReplicationTaskArn!
        guard ["ready", "stopped", "failed"].contains(current.Status ?? ""), !(await supervisor.isActive(arn)) else {
            throw DMSError.invalidState("Replication Task, excluding logging severity task settings, cannot be modified while it is \(current.Status ?? "") state")
        }
        var task = current
        if let identifier = input.ReplicationTaskIdentifier {
            try ResourceNames.validate(identifier, field: "ReplicationTaskIdentifier", maxLength: 255)
            task.ReplicationTaskIdentifier = identifier
        }
        if let type = input.MigrationType { task.MigrationType = try validateMigrationType(type) }
        if let mappings = input.TableMappings {
            _ = try parseMappings(mappings)
            task.TableMappings = mappings
        }
        var revised: TaskSettings?
        if let text = input.ReplicationTaskSettings {
            let settings = try parseSettings { try self.settings(of: current).revised(by: text) }
            task.ReplicationTaskSettings = settings.effectiveJSON
            revised = settings
        }
        let bounds = try CdcBoundsInput(startTime: input.CdcStartTime, startPosition: input.CdcStartPosition,
                                        stopPosition: input.CdcStopPosition, migrationType: task.MigrationType ?? "full-load")
        task.CdcStartPosition = bounds.start ?? task.CdcStartPosition
        task.CdcStopPosition = bounds.stop ?? task.CdcStopPosition
        task.TaskData = input.TaskData ?? task.TaskData
        do {
            try catalog.update(.task, arn: arn, identifier: task.ReplicationTaskIdentifier!, task)
        } catch CatalogError.alreadyExists {
            throw DMSError.alreadyExists("Replication task '\(task.ReplicationTaskIdentifier!)' already exists.")
        }
        if let revised {
            try catalog.setDocument(revised.userJSON, name: Self.userSettingsDocument, for: arn)
            reportUnhonoured(revised, task: task.ReplicationTaskIdentifier!)
        }
        event(task.ReplicationTaskIdentifier!, type: "replication-task", "Replication task has been modified.", categories: ["configuration change"])
        task.Status = "modifying"
        return ModifyReplicationTaskResponse(ReplicationTask: task)
    }

    func startTask(_ input: StartReplicationTaskMessage) async throws -> StartReplicationTaskResponse {
        let current = try task(input.ReplicationTaskArn)
        let arn = current.ReplicationTaskArn!
        let startType = input.StartReplicationTaskType ?? ""
        guard ["start-replication", "resume-processing", "reload-target"].contains(startType) else {
            throw DMSError.invalidParameter("StartReplicationTaskType must be start-replication, resume-processing or reload-target; got '\(startType)'.")
        }
        let bounds = try CdcBoundsInput(startTime: input.CdcStartTime, startPosition: input.CdcStartPosition,
                                        stopPosition: input.CdcStopPosition, migrationType: current.MigrationType ?? "full-load")
        guard ["ready", "stopped", "failed"].contains(current.Status ?? ""), !(await supervisor.isActive(arn)) else {
            throw DMSError.invalidState("Replication task \(current.ReplicationTaskIdentifier!) cannot be started while it is \(current.Status ?? "").")
        }
        if current.StopReason == ReplicationRunner.stoppedForCutover {
            throw DMSError.invalidState("Replication task \(current.ReplicationTaskIdentifier!) was cut over: its target is the database the application writes to, and starting it again would replicate the old database over it. Move back with a cutover of its reverse task (ferry rollback).")
        }
        if current.ReplicationTaskStartDate == nil, startType != "start-replication" {
            throw DMSError.invalidState("Replication task \(current.ReplicationTaskIdentifier!) has never run: start it with start-replication.")
        }
        let run = try taskRun(current, startType: startType, bounds: bounds)
        if bounds.start != nil || bounds.stop != nil {
            _ = try catalog.modify(.task, arn: arn, as: ReplicationTask.self) {
                $0.CdcStartPosition = bounds.start ?? $0.CdcStartPosition
                $0.CdcStopPosition = bounds.stop ?? $0.CdcStopPosition
            }
        }
        if try leavesToAnotherNode() {
            // Tasks spread by load: a node with fewer tasks takes this one at its next round.
            try registry.want(task: arn, startType: startType)
            _ = try catalog.modify(.task, arn: arn, as: ReplicationTask.self) { $0.Status = "starting" }
        } else {
            try await supervisor.start(run)
        }
        if startType != "resume-processing" { assessInBackground(run) }
        var task = try self.task(arn)
        task.Status = "starting"
        return StartReplicationTaskResponse(ReplicationTask: task)
    }

    /// Runs the premigration checks beside a task that starts afresh and records an event naming the
    /// ones that failed (the task is not held back: DMS's assessments do not gate StartReplicationTask).
    func assessInBackground(_ run: TaskRun) {
        let runner = AssessmentRunner(source: Connectors.source(for: run.source), target: Connectors.target(for: run.target),
                                      targetAsSource: Connectors.source(for: run.target), load: run.options)
        Task.detached { [self] in
            guard let findings = try? await runner.run() else { return }
            let failed = findings.filter { $0.status >= .failed && (run.migrationType != "full-load" || $0.phase.concernsFullLoad) }
            guard !failed.isEmpty else { return }
            event(run.identifier, type: "replication-task",
                  "Warning: premigration assessment found \(failed.count) failed checks: "
                  + failed.map { "\($0.name) (\($0.objects.joined(separator: ", "))): \($0.message); fix: \($0.fix)" }.joined(separator: "; "),
                  categories: ["failure"])
        }
    }

    /// What a start of `current` runs: `start-replication` and `reload-target` from the beginning,
    /// `resume-processing` from where it stopped (tables that finished loading are skipped, a table split
    /// into key ranges loads only the ranges that did not finish; CDC continues from the position the
    /// target holds).
    func taskRun(_ current: ReplicationTask, startType: String, bounds: CdcBoundsInput? = nil) throws -> TaskRun {
        let arn = current.ReplicationTaskArn!
        let settings = try settings(of: current)
        let worker = try worker(of: current)
        var options = FullLoadOptions(mappings: try parseMappings(current.TableMappings))
        settings.apply(to: &options)
        options.parallelism = min(options.parallelism, worker.parallelism)
        options.taskName = current.ReplicationTaskIdentifier!
        if startType == "resume-processing" {
            let done = try catalog.tableStatistics(taskArn: arn, as: TableStatistics.self)
                .filter { $0.TableState == TableLoadState.completed.rawValue }
                .map { TableID(schema: $0.SchemaName ?? "", name: $0.TableName ?? "") }
            options.skipTables = Set(done)
            options.resume = true
        }
        return TaskRun(arn: arn, identifier: current.ReplicationTaskIdentifier!,
                       source: try connectionURL(try endpoint(current.SourceEndpointArn)),
                       target: try connectionURL(try endpoint(current.TargetEndpointArn)),
                       options: options, fresh: startType != "resume-processing", settings: settings,
                       migrationType: current.MigrationType ?? "full-load", replicationInstance: worker.name,
                       cdcStart: startType == "resume-processing" ? nil : (bounds?.start ?? current.CdcStartPosition).flatMap(CdcStart.parse),
                       cdcStop: (bounds?.stop ?? current.CdcStopPosition).flatMap(CdcStop.parse))
    }

    /// What runs a task and how many tables it loads at once: its replication instance and that instance's
    /// class, or for a serverless replication (no instance) its config and the config's capacity units.
    func worker(of task: ReplicationTask) throws -> (name: String, parallelism: Int) {
        guard task.ReplicationInstanceArn == nil else {
            let instance = try instance(task.ReplicationInstanceArn)
            return (instance.ReplicationInstanceIdentifier ?? "", try InstanceClass.parallelism(instance.ReplicationInstanceClass ?? ""))
        }
        let config = try replicationConfig(Self.configArn(ofTask: task.ReplicationTaskArn!))
        return ("serverless", CapacityUnits.parallelism(config.ComputeConfig?.MaxCapacityUnits ?? 1))
    }

    func stopTask(_ input: StopReplicationTaskMessage) async throws -> StopReplicationTaskResponse {
        let current = try task(input.ReplicationTaskArn)
        let arn = current.ReplicationTaskArn!
        if await supervisor.isActive(arn) {
            try await supervisor.stop(arn)
        } else if ["starting", "running"].contains(current.Status ?? ""), try registry.owner(of: arn) != nil {
            // Another node runs it: it stops the task at its next round.
            try registry.post(TaskRequest(taskArn: arn, kind: .stop, body: ""))
            _ = try catalog.modify(.task, arn: arn, as: ReplicationTask.self) { $0.Status = "stopping" }
        } else if ["starting", "running"].contains(current.Status ?? ""), try registry.cancelWaiting(task: arn) {
            // Its node died and no node has taken it yet.
            _ = try catalog.modify(.task, arn: arn, as: ReplicationTask.self) {
                $0.Status = "stopped"
                $0.StopReason = "Stop Reason NORMAL"
            }
            event(current.ReplicationTaskIdentifier!, type: "replication-task", "Replication task has stopped. Stop Reason NORMAL.", categories: ["state change"])
        } else {
            throw DMSError.invalidState("Replication task \(current.ReplicationTaskIdentifier!) is not running; it is \(current.Status ?? "").")
        }
        var task = try self.task(current.ReplicationTaskArn)
        task.Status = "stopping"
        return StopReplicationTaskResponse(ReplicationTask: task)
    }

    func deleteTask(_ input: DeleteReplicationTaskMessage) async throws -> DeleteReplicationTaskResponse {
        var task = try task(input.ReplicationTaskArn)
        let arn = task.ReplicationTaskArn!
        guard !(await supervisor.isActive(arn)) else {
            throw DMSError.invalidState("Replication task \(task.ReplicationTaskIdentifier!) is \(task.Status ?? "running"); stop it before deleting it.")
        }
        if task.MigrationType != "full-load" {
            // The slot would otherwise keep the source's WAL forever.
            do {
                let source = Connectors.source(for: try connectionURL(try endpoint(task.SourceEndpointArn)))
                try source.openCapture(task: task.ReplicationTaskIdentifier!, schemas: []).drop()
            } catch {
                event(task.ReplicationTaskIdentifier!, type: "replication-task",
                      "Could not drop the task's replication slot on the source: \(error). Drop slot ferry_… by hand, or it keeps the source's WAL.",
                      categories: ["failure"])
            }
        }
        try deleteAssessmentRuns(ofTask: arn)
        // Offers a run that died left behind (a run that ends withdraws its own).
        try chunkBoard.withdraw(task: arn)
        try catalog.delete(arn: arn)
        telemetry.remove(task: task.ReplicationTaskIdentifier!)
        event(task.ReplicationTaskIdentifier!, type: "replication-task", "Replication task has been deleted.", categories: ["deletion"])
        // After the last event, which would write to it.
        taskLogs.remove(task: task.ReplicationTaskIdentifier!)
        task.Status = "deleting"
        return DeleteReplicationTaskResponse(ReplicationTask: task)
    }

    func reloadTables(_ input: ReloadTablesMessage) async throws -> ReloadTablesResponse {
        let task = try task(input.ReplicationTaskArn)
        let option = input.ReloadOption ?? "data-reload"
        guard ["data-reload", "validate-only"].contains(option) else {
            throw DMSError.invalidParameter("ReloadOption must be data-reload or validate-only; got '\(option)'.")
        }
        if option == "validate-only", !(try settings(of: task).validation.enabled) {
            throw DMSError.invalidParameter("ReloadOption validate-only needs ValidationSettings.EnableValidation in the task's settings.")
        }
        let tables = (input.TablesToReload ?? []).map { TableID(schema: $0.SchemaName ?? "", name: $0.TableName ?? "") }
        guard !tables.isEmpty else { throw DMSError.invalidParameter("TablesToReload must name at least one table.") }
        let mappings = try parseMappings(task.TableMappings)
        if let unknown = tables.first(where: { !mappings.selects($0) }) {
            throw DMSError.invalidParameter("TablesToReload: \(unknown) is not selected by the task's table mappings.")
        }
        let arn = task.ReplicationTaskArn!
        if !(await supervisor.isActive(arn)), try registry.owner(of: arn) != nil {
            let body = String(decoding: try JSONEncoder().encode(tables), as: UTF8.self)
            try registry.post(TaskRequest(taskArn: arn, kind: option == "validate-only" ? .revalidate : .reload, body: body))
        } else {
            try await supervisor.reload(arn, tables: tables, validateOnly: option == "validate-only")
        }
        return ReloadTablesResponse(ReplicationTaskArn: task.ReplicationTaskArn)
    }

    func describeTableStatistics(_ input: DescribeTableStatisticsMessage) throws -> DescribeTableStatisticsResponse {
        let task = try task(input.ReplicationTaskArn)
        let filters = try FilterSet(input.Filters, allowed: ["schema-name", "table-name", "table-state"])
        let page = try Page(marker: input.Marker, maxRecords: input.MaxRecords, defaultSize: 100, maximum: 500)
        let matching = try catalog.tableStatistics(taskArn: task.ReplicationTaskArn!, as: TableStatistics.self).filter { stats in
            filters.matches { name in
                switch name {
                case "schema-name": return stats.SchemaName
                case "table-name": return stats.TableName
                default: return stats.TableState
                }
            }
        }
        let (items, marker) = page.slice(matching)
        return DescribeTableStatisticsResponse(ReplicationTaskArn: task.ReplicationTaskArn, TableStatistics: items, Marker: marker)
    }
}
