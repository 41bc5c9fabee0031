import FerryCore

/// What a load would do, worked out without moving a row (`ferry migrate --plan`): every selected table
/// and column as it will land on the target, the rules that shaped them, the rules that matched nothing,
/// and the tables that cannot be planned.
public struct LoadPlan: Sendable, Codable {
    public struct Table: Sendable, Codable {
        public var source: String
        public var target: String
        /// Target names of the key columns.
        public var primaryKey: [String]
        /// Rule-ids of the transformations that changed the table's schema, name or key.
        public var rules: [String]
        public var columns: [Column]
        /// Why the table cannot be loaded, if it cannot.
        public var error: String?
    }

    public struct Column: Sendable, Codable {
        /// The source column (empty for a column a rule adds).
        public var source: String
        public var target: String
        /// The target's column definition: name, type, NOT NULL and default, as it would be created.
        public var definition: String
        public var key: Bool
        /// Rule-ids of the transformations that added, renamed, retyped or masked the column.
        public var rules: [String]
    }

    public var tables: [Table]
    /// Rules whose wildcards matched nothing (a literal one is an error, and no plan is made).
    public var warnings: [String]
}

extension FullLoadRunner {
    /// Discovers the source tables and plans each as the load would, asking the target how it would
    /// create them; nothing is written.
    public func plan() throws -> LoadPlan {
        let plans = try discoverPlans()
        status.warn(uncopiedObjects(plans.map(\.source)))
        var tables: [LoadPlan.Table] = []
        for plan in plans {
            let written = plan.written
            let key = Set(written.targetPrimaryKey)
            let rules = plan.columns.map(\.ruleIDs) + plan.computed.map { [$0.ruleID] } + plan.beforeImageColumns.map { _ in [String]() }
            let sources = plan.columns.map(\.source.name) + Array(repeating: "", count: written.columns.count - plan.columns.count)
            var table = LoadPlan.Table(source: "\(plan.source.id)", target: "\(plan.target)", primaryKey: written.targetPrimaryKey,
                                       rules: plan.ruleIDs, columns: [])
            do {
                let definitions = try target.columnDefinitions(written)
                table.columns = written.columns.indices.map { i in
                    LoadPlan.Column(source: sources[i], target: written.columns[i].targetName, definition: definitions[i],
                                    key: key.contains(written.columns[i].targetName), rules: rules[i])
                }
            } catch {
                table.error = "\(error)"
            }
            tables.append(table)
        }
        for progress in status.snapshot() where progress.state.isFinal {
            tables.append(LoadPlan.Table(source: "\(progress.source)", target: "\(progress.target)", primaryKey: [], rules: [],
                                         columns: [], error: progress.error ?? progress.state.rawValue))
        }
        return LoadPlan(tables: tables, warnings: status.warnings)
    }
}
