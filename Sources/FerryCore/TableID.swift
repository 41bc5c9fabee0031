/// A table's identity: its schema (a PostgreSQL schema, a MySQL database, SQLite's `main`) and its name.
public struct TableID: Hashable, Sendable, Comparable, Codable, CustomStringConvertible {
    public var schema: String
    public var name: String

    public init(schema: String, name: String) {
        self.schema = schema
        self.name = name
    }

    public var description: String { "\(schema).\(name)" }

    public static func < (lhs: TableID, rhs: TableID) -> Bool {
        (lhs.schema, lhs.name) < (rhs.schema, rhs.name)
    }
}
