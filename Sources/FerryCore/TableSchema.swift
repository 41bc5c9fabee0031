/// The engines Ferry connects to.
public enum EngineKind: String, Sendable, CaseIterable, Codable {
    case postgres
    case mysql
    case sqlite

    /// The name people use for the engine in messages.
    public var displayName: String {
        switch self {
        case .postgres: return "PostgreSQL"
        case .mysql: return "MySQL/MariaDB"
        case .sqlite: return "SQLite"
        }
    }
}

/// One column of a source table as discovered from the catalog.
public struct Column: Hashable, Sendable {
    public var name: String
    public var type: ColumnType
    /// The type exactly as the source engine spells it (`character varying(20)`, `int(10) unsigned`).
    public var nativeType: String
    public var nullable: Bool
    /// A literal default value.
    public var defaultValue: Value?
    /// A value the source makes itself when an INSERT leaves the column out (a counter, the current time, …).
    public var generated: GeneratedDefault?

    public init(name: String, type: ColumnType, nativeType: String, nullable: Bool, defaultValue: Value? = nil,
                generated: GeneratedDefault? = nil) {
        self.name = name
        self.type = type
        self.nativeType = nativeType
        self.nullable = nullable
        self.defaultValue = defaultValue
        self.generated = generated
    }
}

/// A secondary index (unique or not) over plain columns.
public struct IndexDefinition: Hashable, Sendable {
    public var name: String
    public var columns: [String]
    public var unique: Bool

    public init(name: String, columns: [String], unique: Bool) {
        self.name = name
        self.columns = columns
        self.unique = unique
    }
}

/// A foreign key from some columns of a table to columns of another.
public struct ForeignKeyDefinition: Hashable, Sendable {
    public var name: String
    public var columns: [String]
    public var referencedTable: TableID
    public var referencedColumns: [String]
    /// `CASCADE`, `SET NULL`, `SET DEFAULT`, `RESTRICT` or `NO ACTION`.
    public var onDelete: String
    public var onUpdate: String

    public init(name: String, columns: [String], referencedTable: TableID, referencedColumns: [String],
                onDelete: String = "NO ACTION", onUpdate: String = "NO ACTION") {
        self.name = name
        self.columns = columns
        self.referencedTable = referencedTable
        self.referencedColumns = referencedColumns
        self.onDelete = onDelete
        self.onUpdate = onUpdate
    }
}

/// A CHECK constraint in the source engine's own SQL, carried only to the same engine.
public struct CheckConstraint: Hashable, Sendable {
    public var name: String
    /// The condition as the source writes it, without `CHECK`: `(value < 100)`.
    public var condition: String

    public init(name: String, condition: String) {
        self.name = name
        self.condition = condition
    }
}

/// Everything Ferry knows about one source table.
public struct TableSchema: Hashable, Sendable {
    public var id: TableID
    public var engine: EngineKind
    public var columns: [Column]
    /// Names of the primary key's columns, in key order; empty when the table has none.
    public var primaryKey: [String]
    public var indexes: [IndexDefinition]
    public var foreignKeys: [ForeignKeyDefinition]
    /// CHECK constraints (PostgreSQL and MySQL/MariaDB sources).
    public var checks: [CheckConstraint] = []

    public init(id: TableID, engine: EngineKind, columns: [Column], primaryKey: [String],
                indexes: [IndexDefinition] = [], foreignKeys: [ForeignKeyDefinition] = []) {
        self.id = id
        self.engine = engine
        self.columns = columns
        self.primaryKey = primaryKey
        self.indexes = indexes
        self.foreignKeys = foreignKeys
    }

    public func column(named name: String) -> Column? {
        columns.first { $0.name == name }
    }
}
