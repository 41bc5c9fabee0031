import FerryCore

/// What a pgoutput relation message says changed in a table's columns. Pure.
///
/// The first message for a table in a stream is compared with the columns Ferry knows (from the catalog,
/// read when the task started) and can only add columns: after a restart the stream replays changes made
/// before a DDL that the catalog already shows, and the old shape must not drop a column the target needs
/// later. Every later message is compared with the one before it, which is exact.
struct RelationDiff: Equatable {
    /// Columns in the message that were not there before, in table order.
    var added: [PGRelationColumn] = []
    /// Columns the message no longer has.
    var dropped: [String] = []
    /// Changes Ferry does not apply, described (a column whose type changed, a renamed column).
    var unsupported: [String] = []

    var isEmpty: Bool { added.isEmpty && dropped.isEmpty && unsupported.isEmpty }

    init(_ relation: PGRelation, known: [String], previous: PGRelation?) {
        let names = relation.columns.map(\.name)
        guard let previous else {
            added = relation.columns.filter { !known.contains($0.name) }
            return
        }
        let before = previous.columns.map(\.name)
        var renamed: Set<String> = []
        for (index, column) in relation.columns.enumerated() {
            if let old = previous.columns.first(where: { $0.name == column.name }) {
                if old.typeOID != column.typeOID || old.typeModifier != column.typeModifier {
                    unsupported.append("column \(column.name) changed type")
                }
            } else if index < before.count, !names.contains(before[index]) {
                // A new name where a column stood, with that column gone: a rename, which a drop and an
                // add would turn into lost values.
                unsupported.append("column \(before[index]) renamed to \(column.name)")
                renamed.insert(before[index])
            } else {
                added.append(column)
            }
        }
        dropped = before.filter { !names.contains($0) && !renamed.contains($0) }
    }
}
