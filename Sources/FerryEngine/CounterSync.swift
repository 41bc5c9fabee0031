import FerryCore

/// Moves the target's counters (identity, sequences, AUTO_INCREMENT, AUTOINCREMENT) and the source's
/// standalone sequences to where the source's are now, plus a margin, so that the first insert without an
/// id on the target after cutover takes an id the source never handed out. The full load already moves
/// the counters past the highest loaded value and copies the sequences; this re-syncs both from the
/// source itself, as the cutover does once writes are frozen.
public enum CounterSync {
    /// Returns, per target table, the next value each counter column was moved to at least. Standalone
    /// sequences the target cannot hold are left alone (the load named them in its warnings).
    public static func run(source: any SourceConnector, target: any TargetConnector, plans: [TablePlan],
                           margin: Int64 = 0) throws -> [TableID: [String: Int64]] {
        _ = try syncSequences(source: source, target: target, plans: plans, margin: margin)
        var moved: [TableID: [String: Int64]] = [:]
        for plan in plans where plan.columns.contains(where: \.isIntegerCounter) {
            let next = try source.counterNextValues(plan.source)
            var byTarget: [String: Int64] = [:]
            for column in plan.columns where column.isIntegerCounter {
                if let value = next[column.source.name] { byTarget[column.targetName] = value + margin }
            }
            let written = plan.written
            try target.syncCounters(written, next: byTarget)
            moved[written.target] = byTarget
        }
        return moved
    }

    /// Creates or moves on the target every standalone sequence of the plans' source schemas (into the
    /// schema their tables go to), `margin` past the source's next value; returns the ones the target
    /// cannot hold.
    static func syncSequences(source: any SourceConnector, target: any TargetConnector, plans: [TablePlan],
                              margin: Int64 = 0) throws -> [SequenceDefinition] {
        var refused: [SequenceDefinition] = []
        for sequence in try source.standaloneSequences(of: plans.map(\.source)) {
            let schema = plans.first { $0.source.id.schema == sequence.id.schema }?.target.schema ?? sequence.id.schema
            var moved = sequence
            moved.next += sequence.increment > 0 ? margin : -margin
            let id = target.normalize(TableID(schema: schema, name: sequence.id.name))
            if try !target.syncSequence(moved, as: id, from: source.engine) { refused.append(sequence) }
        }
        return refused
    }
}
