import FerryCore
import Foundation

/// `DescribeTableMappingMatches` (Ferry's): which of a task's tables each of its mapping rules names, so
/// a user sees what a wildcard picked (the console shows it beside the rules).
struct DescribeTableMappingMatchesMessage: DMSShape {
    static let requiredMembers = ["ReplicationTaskArn"]
    var ReplicationTaskArn: String?
}

struct DescribeTableMappingMatchesResponse: DMSShape {
    static let requiredMembers: [String] = []
    var ReplicationTaskArn: String?
    var Rules: [TableMappingRuleMatch]?
}

/// One rule and the task's tables it names.
struct TableMappingRuleMatch: DMSShape {
    static let requiredMembers: [String] = []
    var RuleId: String?
    var RuleType: String?
    var RuleAction: String?
    var ObjectLocator: String?
    var Tables: [TableToReload]?
}

extension DMSService {
    /// The task's tables are those it has statistics for: the ones its selection rules picked when it ran.
    func describeTableMappingMatches(_ input: DescribeTableMappingMatchesMessage) throws -> DescribeTableMappingMatchesResponse {
        let task = try task(input.ReplicationTaskArn)
        let tables = try catalog.tableStatistics(taskArn: task.ReplicationTaskArn!, as: TableStatistics.self)
            .map { TableID(schema: $0.SchemaName ?? "", name: $0.TableName ?? "") }
        let matches = try parseMappings(task.TableMappings).matches(in: tables)
        return DescribeTableMappingMatchesResponse(ReplicationTaskArn: task.ReplicationTaskArn, Rules: matches.map { match in
            TableMappingRuleMatch(RuleId: match.ruleID, RuleType: match.ruleType, RuleAction: match.action, ObjectLocator: match.locator,
                                  Tables: match.tables.map { TableToReload(SchemaName: $0.schema, TableName: $0.name) })
        })
    }
}
