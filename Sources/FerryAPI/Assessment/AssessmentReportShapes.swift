import FerryCore
import Foundation

/// `DescribeReplicationTaskAssessmentReport`: what DMS leaves in S3, from Ferry's catalog: an assessment
/// run with every finding in full.
struct DescribeAssessmentReportMessage: DMSShape {
    static let requiredMembers = ["ReplicationTaskAssessmentRunArn"]
    var ReplicationTaskAssessmentRunArn: String?
}

struct DescribeAssessmentReportResponse: DMSShape {
    static let requiredMembers: [String] = []
    var ReplicationTaskAssessmentRun: ReplicationTaskAssessmentRun?
    /// Empty until the run ends.
    var Findings: [AssessmentFindingShape]?
    /// The report's folder under the server's data folder.
    var ReportLocation: String?
}

/// One check's finding as the API returns it.
struct AssessmentFindingShape: DMSShape {
    static let requiredMembers: [String] = []
    var IndividualAssessmentName: String?
    /// passed, warning, failed or error.
    var Status: String?
    /// What a failure blocks: full load, cdc, validation, cutover or rollback.
    var Phase: String?
    var Objects: [String]?
    var Message: String?
    /// The SQL or the setting that mends it.
    var Fix: String?

    init(_ finding: AssessmentFinding) {
        IndividualAssessmentName = finding.name
        Status = finding.status.rawValue
        Phase = finding.phase.rawValue
        Objects = finding.objects
        Message = finding.message
        Fix = finding.fix
    }
}
