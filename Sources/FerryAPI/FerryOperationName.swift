/// Ferry's own operations beside DMS's, on the same endpoint and under the same `X-Amz-Target` prefix
/// (docs/cutover.md, docs/assessment.md, docs/task-logs.md, docs/events.md and docs/console.md document them for scripts).
enum FerryOperationName: String, Sendable, CaseIterable {
    case startCutover = "StartCutover"
    case describeCutovers = "DescribeCutovers"
    case describeCutoverReadiness = "DescribeCutoverReadiness"
    case completeCutover = "CompleteCutover"
    case describeAssessmentReport = "DescribeReplicationTaskAssessmentReport"
    case getTaskLogEvents = "GetReplicationTaskLogEvents"
    case describeEventDeliveries = "DescribeEventDeliveries"
    case describeTableMappingMatches = "DescribeTableMappingMatches"
    case describeNodes = "DescribeNodes"
    case describeChangeStream = "DescribeChangeStream"
}
