/// A `table-settings` rule: how the tables it names are loaded. Ferry acts on `parallel-load` types
/// `partitions-auto` (large tables split into ranges read at once: Ferry's default) and `none` (one reader
/// for the whole table), and on `lob-settings` mode `unlimited` (every LOB copied whole, as Ferry always
/// does). The other forms are refused by name rather than ignored.
public struct TableSettingsRule: Sendable {
    public enum ParallelLoad: String, Sendable {
        case auto = "partitions-auto"
        case none
    }

    public var ruleID: String
    public var schema: Wildcard
    public var table: Wildcard
    public var parallelLoad: ParallelLoad?

    init(_ fields: JSONFields, ruleID: String) throws {
        try fields.rejectUnknownKeys(allowed: ["rule-type", "rule-id", "rule-name", "object-locator", "parallel-load", "lob-settings"])
        let locator = try fields.child("object-locator")
        try locator.rejectUnknownKeys(allowed: ["schema-name", "table-name"])
        self.ruleID = ruleID
        schema = try SelectionRule.pattern(locator, "schema-name")
        table = try SelectionRule.pattern(locator, "table-name")
        if fields.has("parallel-load") {
            let parallel = try fields.child("parallel-load")
            let type = try parallel.string("type")
            guard let value = ParallelLoad(rawValue: type) else {
                let known = ["partitions-list", "ranges", "subpartitions-auto", "subpartitions-list"].contains(type)
                throw FerryError.invalidParameter("\(parallel.path).type", known
                    ? "'\(type)' is not supported yet; Ferry takes partitions-auto (it splits large tables into key or row ranges itself) or none (one reader per table)"
                    : "unknown parallel-load type '\(type)'; expected partitions-auto, partitions-list, ranges or none")
            }
            try parallel.rejectUnknownKeys(allowed: ["type"])
            parallelLoad = value
        }
        if fields.has("lob-settings") {
            let lob = try fields.child("lob-settings")
            try lob.rejectUnknownKeys(allowed: ["mode", "bulk-max-size"])
            let mode = try lob.string("mode")
            guard mode == "unlimited" else {
                throw FerryError.invalidParameter("\(lob.path).mode", ["limited", "none"].contains(mode)
                    ? "'\(mode)' is not supported yet: Ferry copies every LOB whole and never truncates one (mode unlimited)"
                    : "unknown lob-settings mode '\(mode)'; expected limited, unlimited or none")
            }
        }
    }

    public func matches(_ table: TableID) -> Bool {
        schema.matches(table.schema) && self.table.matches(table.name)
    }
}
