import FerryCatalog
import FerryCore
import Foundation

/// DMS's first assessment API, kept for the scripts that use it: StartReplicationTaskAssessment starts an
/// assessment run of every applicable check, DescribeReplicationTaskAssessmentResults shows each task's
/// latest run with its findings as JSON.
extension DMSService {
    /// Where runs started by StartReplicationTaskAssessment keep their reports.
    static let legacyAssessmentBucket = "ferry-assessments"

    func startLegacyAssessment(_ input: StartReplicationTaskAssessmentMessage, _ context: RequestContext) throws -> StartReplicationTaskAssessmentResponse {
        let task = try task(input.ReplicationTaskArn)
        let stamp = Int(Date().timeIntervalSince1970 * 1000)
        _ = try startAssessmentRun(StartReplicationTaskAssessmentRunMessage(
            ReplicationTaskArn: task.ReplicationTaskArn, ServiceAccessRoleArn: "", ResultLocationBucket: Self.legacyAssessmentBucket,
            ResultLocationFolder: task.ReplicationTaskIdentifier, AssessmentRunName: "assessment-\(stamp)"), context)
        return StartReplicationTaskAssessmentResponse(ReplicationTask: task)
    }

    func describeLegacyAssessmentResults(_ input: DescribeReplicationTaskAssessmentResultsMessage) throws -> DescribeReplicationTaskAssessmentResultsResponse {
        let page = try Page(marker: input.Marker, maxRecords: input.MaxRecords)
        let tasks = try input.ReplicationTaskArn.map { [try task($0)] } ?? catalog.list(.task, as: ReplicationTask.self)
        let latest = try assessmentRuns().filter { $0.IsLatestTaskAssessmentRun == true }
        let results = try tasks.compactMap { task -> ReplicationTaskAssessmentResult? in
            guard let run = latest.first(where: { $0.ReplicationTaskArn == task.ReplicationTaskArn }) else { return nil }
            let report = AssessmentReportLocation(run, dataDirectory: catalog.directory).directory.appendingPathComponent("summary.json")
            return ReplicationTaskAssessmentResult(
                ReplicationTaskIdentifier: task.ReplicationTaskIdentifier, ReplicationTaskArn: task.ReplicationTaskArn,
                ReplicationTaskLastAssessmentDate: run.ReplicationTaskAssessmentRunCreationDate, AssessmentStatus: run.Status,
                AssessmentResultsFile: report.path.replacingOccurrences(of: catalog.directory.path + "/", with: ""),
                AssessmentResults: try catalog.document(Self.assessmentFindingsDocument, for: run.ReplicationTaskAssessmentRunArn!),
                S3ObjectUrl: report.absoluteString)
        }
        let (items, marker) = page.slice(results)
        return DescribeReplicationTaskAssessmentResultsResponse(Marker: marker, BucketName: Self.legacyAssessmentBucket, ReplicationTaskAssessmentResults: items)
    }
}
