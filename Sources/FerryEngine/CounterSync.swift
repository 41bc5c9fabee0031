import FerryCore

/// Moves the target's counters (identity, sequences, AUTO_INCREMENT, AUTOINCREMENT) to where the source's
/// are now, plus a margin, so that the first insert without an id on the target after cutover takes an id
/// the source never handed out. The full load already moves them past the highest loaded value; this
/// re-syncs them from the source itself, as the cutover does once writes are frozen.
public enum CounterSync {
    /// Returns, per target table, the next value each counter column was moved to at least.
    public static func run(source: any SourceConnector, target: any TargetConnector, plans: [TablePlan],
                           margin: Int64 = 0) throws -> [TableID: [String: Int64]] {
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
}
