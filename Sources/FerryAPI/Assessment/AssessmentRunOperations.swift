import FerryCatalog
import FerryConnectors
import FerryCore
import FerryEngine
import Foundation

/// DMS's premigration assessment runs: a run checks a task's source and target with the checks selected
/// (all that apply, `IncludeOnly` or all but `Exclude`), in the background, changing nothing. Ferry keeps
/// the results in its catalog and writes the report under the data folder where DMS writes to S3:
/// `assessment-results/<ResultLocationBucket>/<ResultLocationFolder>/<AssessmentRunName>/`.
/// Unlike DMS, a run may check a running task (before its cutover, say): the checks only read.
extension DMSService {
    /// The names of the checks a run selected, in order.
    static let assessmentSelectionDocument = "assessment-selection"
    /// The run's findings (``AssessmentFinding`` as JSON), once it ended.
    static let assessmentFindingsDocument = "assessment-findings"
    static let assessmentRunsInProgress: Set = ["starting", "running", "cancelling"]
    /// The failure message of a run cancelled before it ended.
    static let assessmentCancelled = "Cancelled by CancelReplicationTaskAssessmentRun."

    func startAssessmentRun(_ input: StartReplicationTaskAssessmentRunMessage, _ context: RequestContext) throws -> StartReplicationTaskAssessmentRunResponse {
        let task = try task(input.ReplicationTaskArn)
        let name = input.AssessmentRunName ?? ""
        try ResourceNames.validate(name, field: "AssessmentRunName", maxLength: 255)
        try AssessmentReportLocation.validate(bucket: input.ResultLocationBucket ?? "", folder: input.ResultLocationFolder)
        if let mode = input.ResultEncryptionMode, !["SSE_S3", "SSE_KMS"].contains(mode) {
            throw DMSError.invalidParameter("ResultEncryptionMode must be SSE_S3 or SSE_KMS; got '\(mode)'.")
        }
        if input.ResultEncryptionMode == "SSE_KMS", input.ResultKmsKeyArn?.isEmpty ?? true {
            throw DMSError.invalidParameter("ResultKmsKeyArn is required when ResultEncryptionMode is SSE_KMS.")
        }
        let selected = try selectChecks(try applicableChecks(task).map(\.name), includeOnly: input.IncludeOnly, exclude: input.Exclude)
        let earlier = try assessmentRuns().filter { $0.ReplicationTaskArn == task.ReplicationTaskArn }
        if let running = earlier.first(where: { Self.assessmentRunsInProgress.contains($0.Status ?? "") }) {
            throw DMSError.invalidState("Assessment run \(running.AssessmentRunName ?? "") of replication task \(task.ReplicationTaskIdentifier!) is still \(running.Status ?? "").")
        }
        if earlier.contains(where: { $0.AssessmentRunName == name }) {
            throw DMSError.alreadyExists("Replication task \(task.ReplicationTaskIdentifier!) already has an assessment run named '\(name)'.")
        }
        let arn = ResourceNames.arn(region: context.region, account: context.account, type: "assessment-run", id: ResourceNames.randomID())
        let run = ReplicationTaskAssessmentRun(
            ReplicationTaskAssessmentRunArn: arn, ReplicationTaskArn: task.ReplicationTaskArn, Status: "starting",
            ReplicationTaskAssessmentRunCreationDate: Date(),
            AssessmentProgress: ReplicationTaskAssessmentRunProgress(IndividualAssessmentCount: selected.count, IndividualAssessmentCompletedCount: 0),
            ServiceAccessRoleArn: input.ServiceAccessRoleArn, ResultLocationBucket: input.ResultLocationBucket,
            ResultLocationFolder: input.ResultLocationFolder, ResultEncryptionMode: input.ResultEncryptionMode,
            ResultKmsKeyArn: input.ResultKmsKeyArn, AssessmentRunName: name, IsLatestTaskAssessmentRun: true,
            ResultStatistic: AssessmentRunOutcome(selected: selected, findings: nil).statistic)
        for previous in earlier where previous.IsLatestTaskAssessmentRun == true {
            _ = try catalog.modify(.assessmentRun, arn: previous.ReplicationTaskAssessmentRunArn!, as: ReplicationTaskAssessmentRun.self) {
                $0.IsLatestTaskAssessmentRun = false
            }
        }
        try insert(.assessmentRun, arn: arn, identifier: arn, run)
        try catalog.setDocument(String(decoding: try JSONEncoder().encode(selected), as: UTF8.self), name: Self.assessmentSelectionDocument, for: arn)
        try storeTags(input.Tags, for: arn)
        Task.detached { [self] in await executeAssessmentRun(arn, task: task, selected: selected) }
        return StartReplicationTaskAssessmentRunResponse(ReplicationTaskAssessmentRun: run)
    }

    /// Runs the checks and records what they found; a run cancelled meanwhile keeps no result.
    func executeAssessmentRun(_ arn: String, task: ReplicationTask, selected: [String]) async {
        _ = try? catalog.modify(.assessmentRun, arn: arn, as: ReplicationTaskAssessmentRun.self) { $0.Status = "running" }
        var failure: String?
        do {
            let run = try taskRun(task, startType: "start-replication")
            let runner = AssessmentRunner(source: Connectors.source(for: run.source), target: Connectors.target(for: run.target),
                                          targetAsSource: Connectors.source(for: run.target), load: run.options)
            let findings = try await runner.run(only: Set(selected))
            try catalog.setDocument(String(decoding: try JSONEncoder().encode(findings), as: UTF8.self), name: Self.assessmentFindingsDocument, for: arn)
            let ended = try catalog.modify(.assessmentRun, arn: arn, as: ReplicationTaskAssessmentRun.self) { record in
                let cancelled = record.Status == "cancelling"
                let outcome = AssessmentRunOutcome(selected: selected, findings: findings, cancelled: cancelled)
                record.Status = outcome.status
                record.ResultStatistic = outcome.statistic
                record.AssessmentProgress?.IndividualAssessmentCompletedCount = outcome.completed
                if cancelled { record.LastFailureMessage = Self.assessmentCancelled }
            }
            if let ended { try AssessmentReportLocation(ended, dataDirectory: catalog.directory).write(ended, findings: findings) }
        } catch {
            failure = "\(error)"
            _ = try? catalog.modify(.assessmentRun, arn: arn, as: ReplicationTaskAssessmentRun.self) {
                $0.Status = "error-executing"
                $0.LastFailureMessage = failure
            }
        }
        let record = try? catalog.get(.assessmentRun, arn: arn, as: ReplicationTaskAssessmentRun.self)
        let statistic = record?.ResultStatistic
        event(task.ReplicationTaskIdentifier!, type: "replication-task",
              failure.map { "Assessment run \(record?.AssessmentRunName ?? arn) could not run: \($0)" }
                ?? "Assessment run \(record?.AssessmentRunName ?? arn) \(record?.Status ?? "ended"): \(statistic?.Passed ?? 0) passed, "
                + "\(statistic?.Warning ?? 0) warnings, \(statistic?.Failed ?? 0) failed, \(statistic?.Error ?? 0) errors",
              categories: failure == nil && record?.Status != "failed" ? ["state change"] : ["failure"])
    }

    /// The checks a task's engines and migration type get.
    func applicableChecks(_ task: ReplicationTask) throws -> [AssessmentCheck] {
        let source = try EndpointModel.engine(named: try endpoint(task.SourceEndpointArn).EngineName ?? "").engine
        let target = try EndpointModel.engine(named: try endpoint(task.TargetEndpointArn).EngineName ?? "").engine
        return Self.applicableChecks(source: source, target: target, migrationType: task.MigrationType ?? "")
    }

    static func applicableChecks(source: EngineKind, target: EngineKind, migrationType: String) -> [AssessmentCheck] {
        AssessmentRunner.checks(source: Connectors.source(for: ConnectionURL(engine: source)),
                                targetAsSource: Connectors.source(for: ConnectionURL(engine: target)),
                                fullLoadOnly: migrationType == "full-load")
    }

    /// The checks a run makes: the applicable ones, narrowed by IncludeOnly or Exclude (not both), each
    /// name checked.
    func selectChecks(_ applicable: [String], includeOnly: [String]?, exclude: [String]?) throws -> [String] {
        if includeOnly != nil, exclude != nil {
            throw DMSError("InvalidParameterCombinationException", "IncludeOnly and Exclude cannot be given together.")
        }
        for (field, names) in [("IncludeOnly", includeOnly ?? []), ("Exclude", exclude ?? [])] {
            if let unknown = names.first(where: { !applicable.contains($0) }) {
                throw DMSError.invalidParameter("\(field): '\(unknown)' is not an individual assessment that applies to this task; "
                                                + "DescribeApplicableIndividualAssessments lists them.")
            }
        }
        let selected = applicable.filter { includeOnly?.contains($0) ?? !(exclude ?? []).contains($0) }
        guard !selected.isEmpty else { throw DMSError.invalidParameter("Exclude leaves no individual assessment to run.") }
        return selected
    }

    func describeApplicableAssessments(_ input: DescribeApplicableIndividualAssessmentsMessage) throws -> DescribeApplicableIndividualAssessmentsResponse {
        let page = try Page(marker: input.Marker, maxRecords: input.MaxRecords, defaultSize: 100, maximum: 1000)
        let checks: [AssessmentCheck]
        if let arn = input.ReplicationTaskArn {
            checks = try applicableChecks(try task(arn))
        } else if let instance = input.ReplicationInstanceArn {
            _ = try self.instance(instance)
            func engine(_ field: String, _ name: String?) throws -> EngineKind {
                guard let name, let found = EndpointModel.engines.first(where: { $0.name == name.lowercased() }) else {
                    throw DMSError.invalidParameter("\(field) '\(name ?? "")' is not supported by Ferry; use one of \(EndpointModel.engines.map(\.name).joined(separator: ", ")).")
                }
                return found.engine
            }
            checks = Self.applicableChecks(source: try engine("SourceEngineName", input.SourceEngineName),
                                           target: try engine("TargetEngineName", input.TargetEngineName),
                                           migrationType: try validateMigrationType(input.MigrationType))
        } else {
            throw DMSError.invalidParameter("ReplicationTaskArn, or ReplicationInstanceArn with SourceEngineName, TargetEngineName and MigrationType, is required.")
        }
        let (names, marker) = page.slice(checks.map(\.name))
        return DescribeApplicableIndividualAssessmentsResponse(IndividualAssessmentNames: names, Marker: marker)
    }

    func assessmentRuns() throws -> [ReplicationTaskAssessmentRun] {
        try catalog.list(.assessmentRun, as: ReplicationTaskAssessmentRun.self)
    }

    func assessmentRun(_ arn: String?) throws -> ReplicationTaskAssessmentRun {
        guard let arn, let run = try catalog.get(.assessmentRun, arn: arn, as: ReplicationTaskAssessmentRun.self) else {
            throw DMSError.notFound("Assessment run \(arn ?? "") not found.")
        }
        return run
    }

    func describeAssessmentRuns(_ input: DescribeReplicationTaskAssessmentRunsMessage) throws -> DescribeReplicationTaskAssessmentRunsResponse {
        let filters = try FilterSet(input.Filters, allowed: ["replication-task-assessment-run-arn", "replication-task-arn", "replication-instance-arn", "status"])
        let instances = Dictionary(try catalog.list(.task, as: ReplicationTask.self).map { ($0.ReplicationTaskArn ?? "", $0.ReplicationInstanceArn) }) { a, _ in a }
        let (runs, marker) = try describe(try assessmentRuns(), filters: filters, page: try Page(marker: input.Marker, maxRecords: input.MaxRecords),
                                          noneFound: "No assessment runs found matching provided filters") { run, filter in
            switch filter {
            case "replication-task-assessment-run-arn": return run.ReplicationTaskAssessmentRunArn
            case "replication-task-arn": return run.ReplicationTaskArn
            case "replication-instance-arn": return instances[run.ReplicationTaskArn ?? ""] ?? nil
            default: return run.Status
            }
        }
        return DescribeReplicationTaskAssessmentRunsResponse(Marker: marker, ReplicationTaskAssessmentRuns: runs)
    }

    func describeIndividualAssessments(_ input: DescribeReplicationTaskIndividualAssessmentsMessage) throws -> DescribeReplicationTaskIndividualAssessmentsResponse {
        let filters = try FilterSet(input.Filters, allowed: ["replication-task-assessment-run-arn", "replication-task-arn", "status"])
        let individual = try assessmentRuns().flatMap { run in try individualAssessments(run).map { (run, $0) } }
        let (items, marker) = try describe(individual, filters: filters, page: try Page(marker: input.Marker, maxRecords: input.MaxRecords),
                                           noneFound: "No individual assessments found matching provided filters") { pair, filter in
            switch filter {
            case "replication-task-assessment-run-arn": return pair.0.ReplicationTaskAssessmentRunArn
            case "replication-task-arn": return pair.0.ReplicationTaskArn
            default: return pair.1.Status
            }
        }
        return DescribeReplicationTaskIndividualAssessmentsResponse(Marker: marker, ReplicationTaskIndividualAssessments: items.map(\.1))
    }

    /// A run's individual assessments, each with an ARN of its own (`individual-assessment:<run id>-<name>`).
    func individualAssessments(_ run: ReplicationTaskAssessmentRun) throws -> [ReplicationTaskIndividualAssessment] {
        let arn = run.ReplicationTaskAssessmentRunArn!
        let selected = try catalog.document(Self.assessmentSelectionDocument, for: arn).map { try JSONDecoder().decode([String].self, from: Data($0.utf8)) } ?? []
        let findings = try findings(of: run)
        let outcome = AssessmentRunOutcome(selected: selected, findings: findings, cancelled: run.LastFailureMessage == Self.assessmentCancelled)
        let prefix = arn.replacingOccurrences(of: ":assessment-run:", with: ":individual-assessment:")
        return outcome.individual.map {
            ReplicationTaskIndividualAssessment(ReplicationTaskIndividualAssessmentArn: "\(prefix)-\($0.name)", ReplicationTaskAssessmentRunArn: arn,
                                                IndividualAssessmentName: $0.name, Status: $0.status,
                                                ReplicationTaskIndividualAssessmentStartDate: run.ReplicationTaskAssessmentRunCreationDate)
        }
    }

    func describeAssessmentReport(_ input: DescribeAssessmentReportMessage) throws -> DescribeAssessmentReportResponse {
        let run = try assessmentRun(input.ReplicationTaskAssessmentRunArn)
        return DescribeAssessmentReportResponse(ReplicationTaskAssessmentRun: run, Findings: try findings(of: run)?.map(AssessmentFindingShape.init) ?? [],
                                                ReportLocation: AssessmentReportLocation(run, dataDirectory: catalog.directory).directory.path)
    }

    /// What a run found, once it ended.
    func findings(of run: ReplicationTaskAssessmentRun) throws -> [AssessmentFinding]? {
        try catalog.document(Self.assessmentFindingsDocument, for: run.ReplicationTaskAssessmentRunArn!)
            .map { try JSONDecoder().decode([AssessmentFinding].self, from: Data($0.utf8)) }
    }

    func cancelAssessmentRun(_ input: CancelReplicationTaskAssessmentRunMessage) throws -> CancelReplicationTaskAssessmentRunResponse {
        let arn = try assessmentRun(input.ReplicationTaskAssessmentRunArn).ReplicationTaskAssessmentRunArn!
        let run = try catalog.modify(.assessmentRun, arn: arn, as: ReplicationTaskAssessmentRun.self) { run in
            guard ["starting", "running"].contains(run.Status ?? "") else {
                throw DMSError.invalidState("Assessment run \(run.AssessmentRunName ?? "") is \(run.Status ?? ""), not in progress: there is nothing to cancel.")
            }
            run.Status = "cancelling"
        }
        return CancelReplicationTaskAssessmentRunResponse(ReplicationTaskAssessmentRun: run)
    }

    func deleteAssessmentRun(_ input: DeleteReplicationTaskAssessmentRunMessage) throws -> DeleteReplicationTaskAssessmentRunResponse {
        var run = try assessmentRun(input.ReplicationTaskAssessmentRunArn)
        if Self.assessmentRunsInProgress.contains(run.Status ?? "") {
            throw DMSError.invalidState("Assessment run \(run.AssessmentRunName ?? "") is \(run.Status ?? ""); cancel it or wait for it to end before deleting it.")
        }
        try removeAssessmentRun(run)
        run.Status = "deleting"
        return DeleteReplicationTaskAssessmentRunResponse(ReplicationTaskAssessmentRun: run)
    }

    /// Removes a run from the catalog with its report.
    func removeAssessmentRun(_ run: ReplicationTaskAssessmentRun) throws {
        try catalog.delete(arn: run.ReplicationTaskAssessmentRunArn!)
        try AssessmentReportLocation(run, dataDirectory: catalog.directory).remove()
    }

    /// A task's runs go with it.
    func deleteAssessmentRuns(ofTask arn: String) throws {
        for run in try assessmentRuns() where run.ReplicationTaskArn == arn { try removeAssessmentRun(run) }
    }

    /// After a restart, runs that were in progress end in error: their checks stopped with the server.
    func recoverAssessmentRuns() throws {
        for run in try assessmentRuns() where Self.assessmentRunsInProgress.contains(run.Status ?? "") {
            _ = try catalog.modify(.assessmentRun, arn: run.ReplicationTaskAssessmentRunArn!, as: ReplicationTaskAssessmentRun.self) {
                $0.Status = "error-executing"
                $0.LastFailureMessage = "Ferry stopped while the run was in progress; start another run."
            }
        }
    }
}
