import Foundation

/// A `table-settings` rule: how the tables it names are loaded. Ferry acts on `parallel-load` types
/// `partitions-auto` (large tables split into ranges read at once: Ferry's default), `ranges` (the
/// user's segments, ``RangeSegments``) and `none` (one reader for the whole table), and on every
/// `lob-settings` mode: `unlimited` (every LOB copied whole), `limited` (``LobLimit``) and `none` (the
/// task's LOB settings). The other forms are refused by name rather than ignored.
public struct TableSettingsRule: Sendable {
    public enum ParallelLoad: Hashable, Sendable {
        case auto
        case none
        case ranges(RangeSegments)
        /// These partitions are read each on their own, the table's other partitions together.
        case partitions([String])
    }

    /// A `lob-settings` mode.
    public enum LobMode: Hashable, Sendable {
        case unlimited
        /// LOBs above this many KB are cut (`bulk-max-size`).
        case limited(kilobytes: Int)
        /// The task's LOB settings apply.
        case none
    }

    public var ruleID: String
    public var schema: Wildcard
    public var table: Wildcard
    public var parallelLoad: ParallelLoad?
    public var lob: LobMode?

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
            switch type {
            case "partitions-auto":
                try parallel.rejectUnknownKeys(allowed: ["type"])
                parallelLoad = .auto
            case "none":
                try parallel.rejectUnknownKeys(allowed: ["type"])
                parallelLoad = ParallelLoad.none
            case "ranges":
                try parallel.rejectUnknownKeys(allowed: ["type", "columns", "boundaries"])
                parallelLoad = .ranges(try Self.ranges(parallel))
            case "partitions-list":
                try parallel.rejectUnknownKeys(allowed: ["type", "partitions"])
                parallelLoad = .partitions(try parallel.names("partitions", of: "partition", count: 1...Int.max))
            case "subpartitions-auto", "subpartitions-list":
                throw FerryError.invalidParameter("\(parallel.path).type", "'\(type)' is for Oracle subpartitions; Ferry takes partitions-auto, partitions-list, ranges or none")
            default:
                throw FerryError.invalidParameter("\(parallel.path).type", "unknown parallel-load type '\(type)'; expected partitions-auto, partitions-list, ranges or none")
            }
        }
        if fields.has("lob-settings") {
            let lob = try fields.child("lob-settings")
            try lob.rejectUnknownKeys(allowed: ["mode", "bulk-max-size"])
            switch try lob.string("mode") {
            case "unlimited": self.lob = .unlimited
            case "none": self.lob = LobMode.none
            case "limited":
                guard let text = try lob.stringOrNumber("bulk-max-size"), let size = Int(text), size > 0 else {
                    throw FerryError.invalidParameter("\(lob.path).bulk-max-size", "is required for mode limited: the largest LOB to copy whole, in KB (above 0)")
                }
                self.lob = .limited(kilobytes: size)
            case let mode:
                throw FerryError.invalidParameter("\(lob.path).mode", "unknown lob-settings mode '\(mode)'; expected limited, unlimited or none")
            }
        }
    }

    /// Reads `columns` (1 to 10 names) and `boundaries` (one value per column in each).
    private static func ranges(_ fields: JSONFields) throws -> RangeSegments {
        let columns = try fields.names("columns", of: "column", count: 1...10)
        guard let rows = try fields.array("boundaries"), !rows.isEmpty else {
            throw FerryError.invalidParameter("\(fields.path).boundaries", "is required: a list of upper bounds, one value per column in each")
        }
        let boundaries = try rows.enumerated().map { index, row -> [String] in
            let path = "\(fields.path).boundaries[\(index)]"
            guard let values = row as? [Any], values.count == columns.count else {
                throw FerryError.invalidParameter(path, "expected \(columns.count) value\(columns.count == 1 ? "" : "s"), one per column")
            }
            return try values.map { value in
                if let text = value as? String { return text }
                if !JSONValue.isBoolean(value), let number = value as? NSNumber { return number.stringValue }
                throw FerryError.invalidParameter(path, "expected strings or numbers")
            }
        }
        return RangeSegments(columns: columns, boundaries: boundaries)
    }

    public func matches(_ table: TableID) -> Bool {
        schema.matches(table.schema) && self.table.matches(table.name)
    }
}
