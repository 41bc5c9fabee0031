/// How one source column lands in the target.
public struct ColumnPlan: Hashable, Sendable {
    /// The source column (its name, neutral type and native type).
    public var source: Column
    /// The column's name in the target table.
    public var targetName: String

    public init(source: Column, targetName: String) {
        self.source = source
        self.targetName = targetName
    }
}

/// How one source table is copied: where it goes and which columns it keeps, under which names.
public struct TablePlan: Hashable, Sendable {
    public var source: TableSchema
    public var target: TableID
    public var columns: [ColumnPlan]
    /// Row filters from the selection rules, all of which a row must pass.
    public var filters: [RowFilter]

    public init(source: TableSchema, target: TableID, columns: [ColumnPlan], filters: [RowFilter] = []) {
        self.source = source
        self.target = target
        self.columns = columns
        self.filters = filters
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
        source.primaryKey.compactMap(targetName(ofSource:))
    }

    /// Checks an existing target table (given by its column names; empty when it does not exist)
    /// before a truncate-before-load or do-nothing load. `location` says where, e.g. `PostgreSQL host:5432/db`.
    public func requireTargetColumns(_ existing: Set<String>, location: String) throws {
        guard !existing.isEmpty else {
            throw FerryError(.notFound, "target table \(target) does not exist in \(location); use target table prep mode drop-and-create to create it")
        }
        let missing = columns.map(\.targetName).filter { !existing.contains($0) }
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
