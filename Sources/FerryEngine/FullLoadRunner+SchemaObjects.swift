import FerryCore

/// What the load does beside the rows: standalone sequences, and the warnings that name what it does not
/// carry (views, triggers, routines; defaults and CHECK constraints the target has no equivalent for).
extension FullLoadRunner {
    /// Copies the source's standalone sequences where their schemas' tables went, standing where the
    /// source's stand; those the target cannot hold, or that fail, are named in the load's warnings.
    func copySequences(_ plans: [TablePlan]) async {
        do {
            let refused = try await BlockingWork.run("ferry-sequences") { [source, target] in
                try CounterSync.syncSequences(source: source, target: target, plans: plans)
            }
            status.warn(refused.map { "sequence \($0.id) is not copied: only a PostgreSQL target holds a PostgreSQL sequence; create one and set it to \($0.next) (docs/type-mapping.md)" })
        } catch {
            status.warn(["the source's sequences could not be copied: \(error)"])
        }
    }

    /// The source's views, triggers and routines, which are not copied, each said once. Asked once per load
    /// (not per discovery: change capture discovers the tables before its load too).
    func uncopiedObjects(_ schemas: [TableSchema]) -> [String] {
        do {
            return try source.uncopiedObjects(of: schemas).map { "\($0) is not copied: Ferry copies tables, their keys, indexes, foreign keys and defaults (docs/type-mapping.md)" }
        } catch {
            return ["the source's views, triggers and routines could not be listed, and none is copied: \(error)"]
        }
    }

    /// The table's generated defaults and CHECK constraints the target cannot carry, and counters that
    /// lose GENERATED ALWAYS.
    func defaultWarnings(_ plan: TablePlan) -> [String] {
        var warnings: [String] = []
        if !plan.source.checks.isEmpty, plan.checks(carriedTo: target.engine).isEmpty {
            let names = plan.source.checks.map(\.name).joined(separator: ", ")
            warnings.append("the CHECK constraints of \(plan.source.id) (\(names)) are not carried: Ferry creates them on a target of the same engine, with every column under its own name")
        }
        return warnings + plan.columns.compactMap { column -> String? in
            guard let generated = column.source.generated else { return nil }
            let name = "\(plan.source.id).\(column.source.name)"
            guard target.generatedDefaultSQL(column, in: plan) != nil else {
                return "the default of \(name) (\(generated.description)) is not carried: \(target.engine.displayName) has no equivalent for this column (docs/type-mapping.md)"
            }
            if generated.counter?.always == true {
                return "\(name) is GENERATED ALWAYS on the source; on the target it takes the ids Ferry writes (BY DEFAULT), which you can restrict after cutover"
            }
            return nil
        }
    }
}
