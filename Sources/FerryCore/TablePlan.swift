/// How one source column lands in the target.
public struct ColumnPlan: Hashable, Sendable {
    /// The source column (its name, neutral type and native type).
    public var source: Column
    /// The column's name in the target table.
    public var targetName: String
    /// The target column's type when a change-data-type rule sets it.
    public var targetType: ColumnType?
    /// How the column's values are masked on the way (a data-masking rule).
    public var masking: DataMasking?
    /// The rule-ids of the transformations that changed the column (renamed, retyped or masked it).
    public var ruleIDs: [String] = []

    public init(source: Column, targetName: String, targetType: ColumnType? = nil, masking: DataMasking? = nil) {
        self.source = source
        self.targetName = targetName
        self.targetType = targetType
        self.masking = masking
    }

    /// Whether the column is an integer the source numbers itself (identity, serial, AUTO_INCREMENT, rowid).
    public var isIntegerCounter: Bool {
        guard source.generated?.counter != nil, case .integer = writtenType else { return false }
        return true
    }

    /// The type the target column gets and its values are written as.
    public var writtenType: ColumnType {
        if let targetType { return targetType }
        if let masking { return masking.writtenType(for: source.type) }
        return source.type
    }
}

/// A column an add-column rule adds: its value is an expression over the row (``RowTransformer``).
public struct ComputedColumn: Hashable, Sendable {
    public var ruleID: String
    public var name: String
    public var type: ColumnType
    /// DMS's expression: SQLite syntax with `$column` and `$AR_…` references.
    public var expression: String

    public init(ruleID: String, name: String, type: ColumnType, expression: String) {
        self.ruleID = ruleID
        self.name = name
        self.type = type
        self.expression = expression
    }

    /// Whether the expression flags operations (`operation_indicator`): deletes then become soft deletes.
    public var flagsOperations: Bool {
        expression.lowercased().contains("operation_indicator")
    }
}

/// Columns an add-before-image-columns rule adds: for each chosen source column, one more column that holds
/// its value before an update (NULL for rows the load copies and for inserts).
public struct BeforeImageColumns: Hashable, Sendable {
    public enum Filter: String, Hashable, Sendable, CaseIterable {
        case primaryKeyOnly = "pk-only"
        case nonLob = "non-lob"
        case all
    }

    public var prefix: String
    public var suffix: String
    public var filter: Filter

    public init(prefix: String = "BI_", suffix: String = "", filter: Filter = .primaryKeyOnly) {
        self.prefix = prefix
        self.suffix = suffix
        self.filter = filter
    }

    /// Indexes into `plan.columns` of the columns that get a before-image column.
    func chosen(in plan: TablePlan) -> [Int] {
        plan.columns.indices.filter { index in
            let column = plan.columns[index].source
            switch filter {
            case .primaryKeyOnly: return plan.keyNames.contains(column.name)
            case .nonLob: return !LobLimit.isLob(column.type)
            case .all: return true
            }
        }
    }
}

/// A key a define-primary-key rule gives the target table.
public struct DefinedKey: Hashable, Sendable {
    public enum Origin: String, Hashable, Sendable {
        case primaryKey = "primary-key"
        case uniqueIndex = "unique-index"
    }

    public var name: String
    public var origin: Origin
    /// Source column names, in key order.
    public var columns: [String]

    public init(name: String, origin: Origin, columns: [String]) {
        self.name = name
        self.origin = origin
        self.columns = columns
    }
}

/// How one source table is copied: where it goes and which columns it keeps, under which names.
public struct TablePlan: Hashable, Sendable {
    public var source: TableSchema
    public var target: TableID
    public var columns: [ColumnPlan]
    /// Row filters from the selection rules, all of which a row must pass.
    public var filters: [RowFilter]
    /// Columns added by add-column rules, after the source's columns.
    public var computed: [ComputedColumn]
    /// The key a define-primary-key rule sets, replacing the source's.
    public var definedKey: DefinedKey?
    /// Limited LOB mode: text and binary LOBs above this size are cut (and counted), or fail the table.
    public var lobLimit: LobLimit?
    /// The rule-ids of the transformations that changed the table: its schema or name, its key.
    public var ruleIDs: [String] = []
    /// Whether a source delete only flags the target row (an `operation_indicator` column) instead of deleting it.
    public var softDeletes: Bool {
        computed.contains { $0.flagsOperations }
    }

    /// Before-image columns an add-before-image-columns rule adds after the computed columns.
    public var beforeImage: BeforeImageColumns?
    /// The target table is created without its primary key, which ``TargetConnector/addPrimaryKey(_:)`` adds
    /// once the rows are in (DMS `FullLoadSettings.CreatePkAfterFullLoad`): loading without the key's
    /// index is faster. Targets that cannot add a key later create it with the table.
    public var primaryKeyAfterLoad = false

    public init(source: TableSchema, target: TableID, columns: [ColumnPlan], filters: [RowFilter] = [],
                computed: [ComputedColumn] = [], definedKey: DefinedKey? = nil) {
        self.source = source
        self.target = target
        self.columns = columns
        self.filters = filters
        self.computed = computed
        self.definedKey = definedKey
    }

    /// Whether values change on the way (masking, computed columns, changed types, a LOB limit): rows must
    /// then be decoded and transformed, never passed through in a native encoding.
    public var transformsValues: Bool {
        rewritesRows || columns.contains { $0.targetType != nil }
    }

    /// Whether rows go through a ``RowTransformer``: computed, masked, before-image or LOB-limited columns.
    public var rewritesRows: Bool {
        !computed.isEmpty || columns.contains { $0.masking != nil } || limitsLobs || beforeImage != nil
    }

    /// The before-image columns: which plan column each copies, and its name in the target.
    public var beforeImageColumns: [(index: Int, name: String)] {
        guard let beforeImage else { return [] }
        return beforeImage.chosen(in: self).map { ($0, beforeImage.prefix + columns[$0].targetName + beforeImage.suffix) }
    }

    /// Whether a LOB limit applies to any of the plan's columns.
    public var limitsLobs: Bool {
        lobLimit != nil && columns.contains { LobLimit.applies(to: $0.source.type) }
    }

    /// The source's CHECK constraints a target of `engine` can create as they are written: the same engine,
    /// and every column under its own name (a condition names columns). Others are said in the load's warnings.
    public func checks(carriedTo engine: EngineKind) -> [CheckConstraint] {
        engine == source.engine && columns.allSatisfy({ $0.targetName == $0.source.name }) ? source.checks : []
    }

    /// Source names of the columns changes are applied by: a defined primary key, else the source's.
    public var keyNames: [String] {
        if let definedKey, definedKey.origin == .primaryKey { return definedKey.columns }
        return source.primaryKey
    }

    /// The plan as the target sees it: each column with the type it is written as, the computed columns
    /// appended, and a defined key in place of the source's. Readers use the plan itself; writers this.
    public var written: TablePlan {
        guard transformsValues || definedKey != nil else { return self }
        var plan = self
        plan.columns = columns.map { column in
            var written = column
            if column.writtenType != column.source.type {
                written.source.type = column.writtenType
                written.source.nativeType = ""
                written.source.defaultValue = nil
                written.source.generated = nil
            }
            written.targetType = nil
            written.masking = nil
            return written
        }
        plan.columns += computed.map {
            ColumnPlan(source: Column(name: $0.name, type: $0.type, nativeType: "", nullable: true), targetName: $0.name)
        }
        plan.columns += beforeImageColumns.map { index, name in
            ColumnPlan(source: Column(name: name, type: columns[index].writtenType, nativeType: "", nullable: true), targetName: name)
        }
        plan.beforeImage = nil
        plan.source.primaryKey = keyNames
        if let definedKey, definedKey.origin == .uniqueIndex {
            plan.source.indexes.append(IndexDefinition(name: definedKey.name, columns: definedKey.columns, unique: true))
        }
        plan.computed = []
        plan.definedKey = nil
        return plan
    }

    /// The filters as one SQL condition for the source's query, or nil when there are none.
    public func filterSQL(quote: (String) -> String, literal: (String) -> String) -> String? {
        guard !filters.isEmpty else { return nil }
        return filters.map { $0.sql(quote: quote, literal: literal) }.joined(separator: " AND ")
    }

    /// A plan that keeps every column under its own name.
    public init(identity source: TableSchema) {
        self.init(source: source, target: source.id,
                  columns: source.columns.map { ColumnPlan(source: $0, targetName: $0.name) })
    }

    /// Target names of the primary-key columns (only those the plan keeps).
    public var targetPrimaryKey: [String] {
        keyNames.compactMap(targetName(ofSource:))
    }

    /// Checks an existing target table (given by its column names; empty when it does not exist)
    /// before a truncate-before-load or do-nothing load. `location` says where, e.g. `PostgreSQL host:5432/db`.
    public func requireTargetColumns(_ existing: Set<String>, location: String) throws {
        guard !existing.isEmpty else {
            throw FerryError(.notFound, "target table \(target) does not exist in \(location); use target table prep mode drop-and-create to create it")
        }
        let missing = (columns.map(\.targetName) + computed.map(\.name)).filter { !existing.contains($0) }
        guard missing.isEmpty else {
            throw FerryError(.schemaMismatch, "target table \(target) has no column \(missing.map { "'\($0)'" }.joined(separator: ", ")) (it has \(existing.sorted().joined(separator: ", ")))")
        }
    }

    /// The target name of a source column, or nil when the plan drops it.
    public func targetName(ofSource name: String) -> String? {
        columns.first { $0.source.name == name }?.targetName
    }
}

/// What to do with a target table before loading it (DMS `TargetTablePrepMode`).
public enum TargetTablePrepMode: String, Sendable, CaseIterable, Codable {
    case dropAndCreate = "DROP_AND_CREATE"
    case truncateBeforeLoad = "TRUNCATE_BEFORE_LOAD"
    case doNothing = "DO_NOTHING"

    /// Parses the CLI spelling (`drop-and-create`) or the DMS spelling (`DROP_AND_CREATE`).
    public init?(flag: String) {
        let normalized = flag.uppercased().replacingOccurrences(of: "-", with: "_")
        self.init(rawValue: normalized)
    }
}
