import FerryCore
import Foundation

/// The table mappings of the task that replicates back after a cutover: every target table the forward
/// task wrote, selected by its exact name and renamed (schema, table, columns) back to its source's.
public enum ReverseMappings {
    /// Why changes cannot flow back unchanged, one line per table; empty when they can.
    public static func obstacles(_ plans: [TablePlan]) -> [String] {
        plans.filter(\.rewritesRows).map {
            "\($0.source.id): its rows are rewritten on the way (computed, masked, before-image or LOB-limited columns), so the reverse stream cannot restore them; cut over with --no-reverse"
        }
    }

    /// The reverse task's mappings as DMS table-mapping JSON.
    public static func json(_ plans: [TablePlan], target: any TargetConnector) throws -> String {
        var rules: [[String: Any]] = []
        func add(_ rule: [String: Any]) {
            var rule = rule
            rule["rule-id"] = String(rules.count + 1)
            rule["rule-name"] = "reverse-\(rules.count + 1)"
            rules.append(rule)
        }
        for plan in plans {
            let written = target.normalize(plan.written.target)
            let locator = ["schema-name": literal(written.schema), "table-name": literal(written.name)]
            add(["rule-type": "selection", "object-locator": locator, "rule-action": "include"])
            if written.name != plan.source.id.name {
                add(["rule-type": "transformation", "rule-target": "table", "object-locator": locator, "rule-action": "rename",
                     "value": plan.source.id.name])
            }
            for column in plan.columns where column.targetName != column.source.name {
                add(["rule-type": "transformation", "rule-target": "column",
                     "object-locator": locator.merging(["column-name": literal(column.targetName)]) { a, _ in a },
                     "rule-action": "rename", "value": column.source.name])
            }
        }
        // A schema renames as a whole: each target schema goes back to the one source schema its tables came from.
        var schemas: [String: Set<String>] = [:]
        for plan in plans { schemas[target.normalize(plan.written.target).schema, default: []].insert(plan.source.id.schema) }
        for (written, sources) in schemas.sorted(by: { $0.key < $1.key }) where sources.count == 1 && sources.first != written {
            add(["rule-type": "transformation", "rule-target": "schema", "object-locator": ["schema-name": literal(written)],
                 "rule-action": "rename", "value": sources.first!])
        }
        if schemas.values.contains(where: { $0.count > 1 }) {
            throw FerryError(.invalidParameter, "tables from several source schemas were written into one target schema, which the reverse task cannot tell apart; cut over with --no-reverse")
        }
        let data = try JSONSerialization.data(withJSONObject: ["rules": rules], options: [.sortedKeys])
        return String(decoding: data, as: UTF8.self)
    }

    /// A name as an object-locator matches it literally (`%` and `_` are wildcards there).
    private static func literal(_ name: String) -> String {
        name.replacingOccurrences(of: "[", with: "[[]").replacingOccurrences(of: "%", with: "[%]").replacingOccurrences(of: "_", with: "[_]")
    }
}
