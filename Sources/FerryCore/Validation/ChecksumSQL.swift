/// The SQL that every engine's checksum queries share, written with that engine's quoting.
public struct ChecksumSQL: Sendable {
    let quote: @Sendable (String) -> String
    let literal: @Sendable (String) -> String
    /// How the engine writes a binary value given as lower-case hex.
    let binary: @Sendable (String) -> String
    /// A condition no row meets.
    let never: String

    public init(quote: @escaping @Sendable (String) -> String, literal: @escaping @Sendable (String) -> String,
                binary: @escaping @Sendable (String) -> String, never: String) {
        self.quote = quote
        self.literal = literal
        self.binary = binary
        self.never = never
    }

    /// ` WHERE …` with the table's filters and `extra` conditions, or nothing when there are none.
    public func whereClause(_ table: ChecksumTable, _ extra: String?...) -> String {
        let conditions = ([table.filterSQL(quote: quote, literal: literal)] + extra).compactMap { $0 }
        return conditions.isEmpty ? "" : " WHERE " + conditions.joined(separator: " AND ")
    }

    /// The rows of `buckets` of a `keyRanges` partitioning, as key-range conditions (adjacent buckets merged).
    public func keyRanges(_ table: ChecksumTable, _ partitioning: Partitioning, _ buckets: [Int64]) -> String {
        let key = quote(table.columns[table.key[0]].name)
        let ranges = partitioning.keyRanges(of: buckets).map { "(\(key) >= \($0.lower) AND \(key) < \($0.upper))" }
        return ranges.isEmpty ? never : "(" + ranges.joined(separator: " OR ") + ")"
    }

    /// A condition selecting exactly the rows with these canonical keys; the canonical text of a key
    /// is a valid literal for its column (binary keys are written from their hex).
    public func keyCondition(_ table: ChecksumTable, keys: [CanonicalRow]) -> String {
        let columns = table.key.map { table.columns[$0] }
        func value(_ text: String?, _ column: Column) -> String {
            guard let text else { return "NULL" }
            switch column.type {
            case .binary, .varbinary, .blob: return binary(text)
            default: return literal(text)
            }
        }
        let tuples = keys.map { key in
            "(" + zip(columns, key).map { "\(quote($0.name)) = \(value($1, $0))" }.joined(separator: " AND ") + ")"
        }
        return tuples.isEmpty ? never : tuples.joined(separator: " OR ")
    }
}
