import FerryCatalog
import FerryConnectors
import FerryCore
import FerryEngine
import Foundation

extension DMSService {
    /// The document that links a task and the task replicating the other way (its ARN), both ways.
    static let partnerDocument = "cutover-partner"

    /// Starts a cutover of a running CDC task in this server; the caller follows it with DescribeCutovers.
    /// A cutover of a reverse task is the rollback: its own reverse is the forward task, started again from
    /// where the old database stands.
    func startCutover(_ input: StartCutoverMessage, _ context: RequestContext) async throws -> StartCutoverResponse {
        let task = try task(input.ReplicationTaskArn)
        let arn = task.ReplicationTaskArn!
        let journal = CatalogCutoverJournal(catalog: catalog, taskArn: arn)
        if let earlier = try journal.load(), !earlier.machine.isFinished {
            throw DMSError.invalidState("Cutover \(earlier.id) of replication task \(task.ReplicationTaskIdentifier!) is still \(earlier.status).")
        }
        var options = CutoverOptions(task: task.ReplicationTaskIdentifier!, reverseTask: try partner(of: arn)?.ReplicationTaskIdentifier)
        options.maxLag = try positive(input.MaxLagSeconds, field: "MaxLagSeconds") ?? options.maxLag
        options.timeout = try positive(input.TimeoutSeconds, field: "TimeoutSeconds") ?? options.timeout
        options.reverse = input.ReverseReplication ?? true
        options.dryRun = input.DryRun ?? false
        guard ["full", "none"].contains(input.Validate ?? "full") else {
            throw DMSError.invalidParameter("Validate must be full or none; got '\(input.Validate ?? "")'.")
        }
        options.validate = (input.Validate ?? "full") == "full"
        let runner = try cutoverRunner(task, options: options, context: context)
        let started = CutoverProgress()
        Task.detached { [self] in
            do {
                _ = try await runner.run { started.publish($0) }
            } catch {
                started.fail(error)
                event(task.ReplicationTaskIdentifier!, type: "replication-task", "Cutover could not start: \(error)", categories: ["failure"])
            }
        }
        let record = try await started.first()
        return StartCutoverResponse(Cutover: CutoverDescription(record, taskArn: arn))
    }

    func describeCutovers(_ input: DescribeCutoversMessage) throws -> DescribeCutoversResponse {
        let tasks = try input.ReplicationTaskArn.map { [try task($0)] } ?? catalog.list(.task, as: ReplicationTask.self)
        let cutovers = try tasks.compactMap { task in
            try CatalogCutoverJournal(catalog: catalog, taskArn: task.ReplicationTaskArn!).load()
                .map { CutoverDescription($0, taskArn: task.ReplicationTaskArn!) }
        }
        return DescribeCutoversResponse(Cutovers: cutovers)
    }

    /// Whether the task could be cut over now, from its running change stream.
    func describeCutoverReadiness(_ input: DescribeCutoverReadinessMessage) async throws -> DescribeCutoverReadinessResponse {
        let task = try task(input.ReplicationTaskArn)
        let maxLag = try positive(input.MaxLagSeconds, field: "MaxLagSeconds") ?? CutoverOptions.defaultMaxLag
        guard let status = await supervisor.replicationStatus(task.ReplicationTaskArn!) else {
            return DescribeCutoverReadinessResponse(ReplicationTaskArn: task.ReplicationTaskArn, Ready: false,
                                                    Reasons: [otherNodeRunning(task.ReplicationTaskArn!).map { "task \(task.ReplicationTaskIdentifier!) runs on \($0): ask that node for its cutover" }
                                                        ?? "task \(task.ReplicationTaskIdentifier!) is \(task.Status ?? "not running"): a cutover needs its change data capture running"],
                                                    Notes: [], LagSeconds: nil)
        }
        let readiness = CutoverReadiness.evaluate(status, maxLag: maxLag)
        return DescribeCutoverReadinessResponse(ReplicationTaskArn: task.ReplicationTaskArn, Ready: readiness.ready, Reasons: readiness.reasons,
                                                Notes: readiness.notes, LagSeconds: readiness.lagSeconds)
    }

    /// Ends a completed cutover for good: stops the reverse task, then removes the captures, fences and
    /// control rows Ferry left on both databases.
    func completeCutover(_ input: CompleteCutoverMessage) async throws -> CompleteCutoverResponse {
        let forward = try task(input.ReplicationTaskArn)
        guard let last = try CatalogCutoverJournal(catalog: catalog, taskArn: forward.ReplicationTaskArn!).load(), last.status == "completed",
              !last.machine.dryRun, forward.StopReason == ReplicationRunner.stoppedForCutover, let reverse = try partner(of: forward.ReplicationTaskArn!) else {
            throw DMSError.invalidState("Replication task \(forward.ReplicationTaskIdentifier!) is not cut over: CompleteCutover ends a completed cutover (roll back with a cutover of its reverse task instead).")
        }
        let reverseArn = reverse.ReplicationTaskArn!
        if await supervisor.isActive(reverseArn) {
            try await supervisor.stop(reverseArn)
            while await supervisor.isActive(reverseArn) { try await Task.sleep(for: .milliseconds(100)) }
        }
        let run = try taskRun(forward, startType: "start-replication")
        let removed = try await CutoverCompletion(
            source: Connectors.source(for: run.source), sourceAsTarget: Connectors.target(for: run.source),
            target: Connectors.target(for: run.target), targetAsSource: Connectors.source(for: run.target),
            load: run.options, task: forward.ReplicationTaskIdentifier!, reverseTask: reverse.ReplicationTaskIdentifier!).run()
        event(forward.ReplicationTaskIdentifier!, type: "replication-task",
              "Cutover \(last.id) completed for good: task \(reverse.ReplicationTaskIdentifier!) stopped; removed \(removed.joined(separator: ", ")).",
              categories: ["state change"])
        return CompleteCutoverResponse(Removed: removed)
    }

    /// After a restart, every cutover that was in progress is undone (its sessions, and so its freeze,
    /// ended with the process); the forward task resumes.
    func recoverCutovers() async {
        guard let tasks = try? catalog.list(.task, as: ReplicationTask.self) else { return }
        for task in tasks {
            let arn = task.ReplicationTaskArn!
            guard let record = try? CatalogCutoverJournal(catalog: catalog, taskArn: arn).load(), !record.machine.isFinished else { continue }
            do {
                let options = CutoverOptions(task: record.task, reverseTask: record.reverseTask)
                let context = RequestContext(region: Self.region(of: arn), account: accountID)
                _ = try await cutoverRunner(task, options: options, context: context).recover()
            } catch {
                event(task.ReplicationTaskIdentifier!, type: "replication-task",
                      "Cutover \(record.id) was interrupted at \(record.status) and could not be undone: \(error)", categories: ["failure"])
            }
        }
    }

    /// The runner of a cutover of `task`, with the hooks that start this server's tasks.
    private func cutoverRunner(_ task: ReplicationTask, options: CutoverOptions, context: RequestContext) throws -> CutoverRunner {
        let run = try taskRun(task, startType: "start-replication")
        var options = options
        options.controlSchema = run.options.controlSchema
        let arn = task.ReplicationTaskArn!
        let hooks = CutoverHooks(
            guardrails: { [self] in await cutoverGuardrails(arn) },
            startReverse: { [self] reverse, position in try await startReverse(of: arn, named: reverse, at: position, context) },
            resumeForward: { [self] in
                let current = try self.task(arn)
                guard !(await supervisor.isActive(arn)) else { return }
                try await supervisor.start(try taskRun(current, startType: "resume-processing"))
            },
            finished: { [self] record in reportCutover(record, task: task.ReplicationTaskIdentifier!) })
        return CutoverRunner(source: Connectors.source(for: run.source), target: Connectors.target(for: run.target),
                             targetAsSource: Connectors.source(for: run.target), load: run.options, options: options,
                             journal: CatalogCutoverJournal(catalog: catalog, taskArn: arn), hooks: hooks, logger: logger)
    }

    /// A cutover needs the task streaming changes in this server.
    private func cutoverGuardrails(_ arn: String) async -> [String] {
        guard let task = try? task(arn) else { return ["the task no longer exists"] }
        var refusals: [String] = []
        if task.MigrationType == "full-load" { refusals.append("task \(task.ReplicationTaskIdentifier!) is a full-load task: a cutover needs change data capture") }
        let active = await supervisor.isActive(arn)
        if task.Status != "running" || !active {
            refusals.append("task \(task.ReplicationTaskIdentifier!) is \(task.Status ?? "not running"): a cutover needs it running")
        }
        if let failure = task.LastFailureMessage { refusals.append("task \(task.ReplicationTaskIdentifier!) reports a failure: \(failure)") }
        return refusals + CutoverReadiness.suspensions(await supervisor.replicationStatus(arn)?.suspended ?? [:])
    }

    /// Starts the task that replicates back from `position`: the partner task when there is one (a rollback
    /// starts the forward task again), else a new `cdc` task with its two endpoints the other way round.
    private func startReverse(of arn: String, named name: String, at position: String, _ context: RequestContext) async throws {
        let forward = try task(arn)
        let reverse = try partner(of: arn) ?? createReverseTask(of: forward, named: name, context)
        var run = try taskRun(reverse, startType: "start-replication")
        run.migrationType = "cdc"
        run.cdcStart = .position(position)
        _ = try catalog.modify(.task, arn: reverse.ReplicationTaskArn!, as: ReplicationTask.self) { $0.CdcStartPosition = position }
        try await supervisor.start(run)
    }

    private func partner(of arn: String) throws -> ReplicationTask? {
        guard let partner = try catalog.document(Self.partnerDocument, for: arn) else { return nil }
        return try catalog.get(.task, arn: partner, as: ReplicationTask.self)
    }

    /// The reverse task: `cdc` from the target's endpoint (as a source) to the source's (as a target), with
    /// mappings that rename every table back, the forward task's settings, and a link to its partner.
    private func createReverseTask(of forward: ReplicationTask, named name: String, _ context: RequestContext) throws -> ReplicationTask {
        let run = try taskRun(forward, startType: "start-replication")
        let source = Connectors.source(for: run.source), target = Connectors.target(for: run.target)
        let plans = try FullLoadRunner(source: source, target: target, options: run.options, status: FullLoadStatus()).discoverPlans()
        let mappings = try ReverseMappings.json(plans, target: target)
        let reverseSource = try endpointCopy(of: try endpoint(forward.TargetEndpointArn), as: "SOURCE", context)
        let reverseTarget = try endpointCopy(of: try endpoint(forward.SourceEndpointArn), as: "TARGET", context)
        let arn = ResourceNames.arn(region: context.region, account: context.account, type: "task", id: ResourceNames.randomID())
        let task = ReplicationTask(
            ReplicationTaskIdentifier: name, SourceEndpointArn: reverseSource.EndpointArn, TargetEndpointArn: reverseTarget.EndpointArn,
            ReplicationInstanceArn: forward.ReplicationInstanceArn, MigrationType: "cdc", TableMappings: mappings,
            ReplicationTaskSettings: forward.ReplicationTaskSettings, Status: "ready", ReplicationTaskCreationDate: Date(),
            ReplicationTaskArn: arn)
        try insert(.task, arn: arn, identifier: name, task)
        if let settings = try catalog.document(Self.userSettingsDocument, for: forward.ReplicationTaskArn!) {
            try catalog.setDocument(settings, name: Self.userSettingsDocument, for: arn)
        }
        try catalog.setDocument(arn, name: Self.partnerDocument, for: forward.ReplicationTaskArn!)
        try catalog.setDocument(forward.ReplicationTaskArn!, name: Self.partnerDocument, for: arn)
        event(name, type: "replication-task", "Replication task has been created to replicate back from the target of \(forward.ReplicationTaskIdentifier!) after its cutover.",
              categories: ["creation"])
        return task
    }

    /// The endpoint with the same connection (and password) for the other direction, `<id>-as-source` or
    /// `<id>-as-target`; reused when an earlier cutover made it.
    private func endpointCopy(of endpoint: Endpoint, as type: String, _ context: RequestContext) throws -> Endpoint {
        let identifier = "\(endpoint.EndpointIdentifier!)-as-\(type.lowercased())"
        if let existing = try catalog.list(.endpoint, as: Endpoint.self).first(where: { $0.EndpointIdentifier == identifier }) { return existing }
        var copy = endpoint
        let id = ResourceNames.randomID()
        copy.EndpointIdentifier = identifier
        copy.EndpointType = type
        copy.EndpointArn = ResourceNames.arn(region: context.region, account: context.account, type: "endpoint", id: id)
        copy.ExternalId = id
        try insert(.endpoint, arn: copy.EndpointArn!, identifier: identifier, copy)
        try catalog.setSecret(try catalog.secret("password", for: endpoint.EndpointArn!), name: "password", for: copy.EndpointArn!)
        return copy
    }

    /// An event for the cutover's outcome on the task.
    private func reportCutover(_ record: CutoverRecord, task identifier: String) {
        switch record.machine.step {
        case .completed? where record.machine.dryRun:
            event(identifier, type: "replication-task", "Cutover dry run \(record.id): every guardrail passed.", categories: ["state change"])
        case .completed?:
            let pause = record.writePauseSeconds.map { String(format: "%.3f s", $0) } ?? "-"
            event(identifier, type: "replication-task",
                  "Cutover \(record.id) completed: the target has every change; writes were paused for \(pause)."
                  + (record.machine.reverseRunning ? " Task \(record.reverseTask) replicates back." : ""), categories: ["state change"])
        default:
            event(identifier, type: "replication-task",
                  "Cutover \(record.id) \(record.machine.failedStep.map { "was undone at \($0.rawValue)" } ?? "was refused"): \(record.machine.reasons.joined(separator: "; "))",
                  categories: ["failure"])
        }
    }

    private func positive(_ value: Double?, field: String) throws -> Double? {
        guard let value else { return nil }
        guard value > 0 else { throw DMSError.invalidParameter("\(field) must be above 0 seconds; got \(value).") }
        return value
    }

    /// The region part of an ARN (`arn:aws:dms:REGION:…`).
    static func region(of arn: String) -> String {
        let parts = arn.split(separator: ":", omittingEmptySubsequences: false)
        return parts.count > 3 ? String(parts[3]) : "us-east-1"
    }
}

/// Hands the first record a background cutover publishes (or its failure to start) to the request that
/// started it.
final class CutoverProgress: @unchecked Sendable {
    private let condition = NSCondition()
    private var result: Result<CutoverRecord, Error>?
    private var waiters: [CheckedContinuation<CutoverRecord, Error>] = []

    func publish(_ record: CutoverRecord) { settle(.success(record)) }

    func fail(_ error: Error) { settle(.failure(error)) }

    private func settle(_ outcome: Result<CutoverRecord, Error>) {
        condition.lock()
        guard result == nil else {
            condition.unlock()
            return
        }
        result = outcome
        let waiting = waiters
        waiters = []
        condition.unlock()
        waiting.forEach { $0.resume(with: outcome) }
    }

    func first() async throws -> CutoverRecord {
        try await withCheckedThrowingContinuation { continuation in
            condition.lock()
            if let result {
                condition.unlock()
                continuation.resume(with: result)
                return
            }
            waiters.append(continuation)
            condition.unlock()
        }
    }
}
