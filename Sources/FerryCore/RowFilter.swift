/// A DMS selection-rule filter on one column: its conditions are ORed; a table's filters are ANDed.
public struct RowFilter: Hashable, Sendable {
    /// One `filter-conditions` entry.
    public enum Condition: Hashable, Sendable {
        case lessOrEqual(String)
        case greaterOrEqual(String)
        case equal(String)
        case notEqual(String)
        case between(String, String)
        case notBetween(String, String)
        case isNull
        case isNotNull
    }

    public var column: String
    public var conditions: [Condition]

    public init(column: String, conditions: [Condition]) {
        self.column = column
        self.conditions = conditions
    }

    /// The filter as a SQL boolean expression; `quote` quotes the column name and `literal` a value, as
    /// the source engine spells them. Values are compared as the engine compares a column with a string literal.
    public func sql(quote: (String) -> String, literal: (String) -> String) -> String {
        let c = quote(column)
        let terms = conditions.map { condition -> String in
            switch condition {
            case let .lessOrEqual(v): return "\(c) <= \(literal(v))"
            case let .greaterOrEqual(v): return "\(c) >= \(literal(v))"
            case let .equal(v): return "\(c) = \(literal(v))"
            case let .notEqual(v): return "\(c) <> \(literal(v))"
            case let .between(a, b): return "\(c) BETWEEN \(literal(a)) AND \(literal(b))"
            case let .notBetween(a, b): return "\(c) NOT BETWEEN \(literal(a)) AND \(literal(b))"
            case .isNull: return "\(c) IS NULL"
            case .isNotNull: return "\(c) IS NOT NULL"
            }
        }
        return terms.count == 1 ? terms[0] : "(" + terms.joined(separator: " OR ") + ")"
    }

    /// Parses one entry of a selection rule's `filters`.
    static func parse(_ fields: JSONFields) throws -> RowFilter {
        try fields.rejectUnknownKeys(allowed: ["filter-type", "column-name", "filter-conditions"])
        let type = try fields.string("filter-type")
        guard type == "source" else {
            throw FerryError.invalidParameter("\(fields.path).filter-type", "'\(type)' is not supported; DMS filters are of type source")
        }
        let column = try fields.string("column-name")
        guard let list = try fields.array("filter-conditions"), !list.isEmpty else {
            throw FerryError.invalidParameter("\(fields.path).filter-conditions", "needs at least one condition")
        }
        let conditions = try list.enumerated().map { index, raw in
            try condition(JSONFields(raw, path: "\(fields.path).filter-conditions[\(index)]"))
        }
        return RowFilter(column: column, conditions: conditions)
    }

    private static func condition(_ fields: JSONFields) throws -> Condition {
        try fields.rejectUnknownKeys(allowed: ["filter-operator", "value", "start-value", "end-value"])
        let op = try fields.string("filter-operator")
        func value(_ key: String) throws -> String {
            guard let text = try fields.stringOrNumber(key) else {
                throw FerryError.invalidParameter("\(fields.path).\(key)", "is required for filter-operator \(op)")
            }
            return text
        }
        switch op {
        case "lte", "ste": return .lessOrEqual(try value("value"))
        case "gte": return .greaterOrEqual(try value("value"))
        case "eq": return .equal(try value("value"))
        case "noteq": return .notEqual(try value("value"))
        case "between": return .between(try value("start-value"), try value("end-value"))
        case "notbetween": return .notBetween(try value("start-value"), try value("end-value"))
        case "null": return .isNull
        case "notnull": return .isNotNull
        default:
            throw FerryError.invalidParameter("\(fields.path).filter-operator", "unknown filter-operator '\(op)'; expected lte, ste, gte, eq, noteq, between, notbetween, null or notnull")
        }
    }
}
