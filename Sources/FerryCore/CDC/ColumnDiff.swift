/// What a log's description of a table (a PostgreSQL relation message, a MySQL table map with column
/// names) says changed in the table's columns. Pure.
///
/// The first description of a table in a stream is compared with the columns Ferry knows (from the
/// catalog, read when the task started) and can only add columns: after a restart the stream replays
/// changes made before a DDL that the catalog already shows, and that older shape must not drop a column
/// the target needs later. Every later description is compared with the one before it, which is exact.
public struct ColumnDiff: Equatable, Sendable {
    /// One column as the log describes it: its name and whatever identifies its type there.
    public struct Shape: Equatable, Sendable {
        public var name: String
        public var type: String

        public init(name: String, type: String) {
            self.name = name
            self.type = type
        }
    }

    /// Names of columns that were not there before, in table order.
    public var added: [String] = []
    /// Names of columns that are gone.
    public var dropped: [String] = []
    /// Changes Ferry does not apply, described (a column whose type changed, a renamed column).
    public var unsupported: [String] = []

    public var isEmpty: Bool { added.isEmpty && dropped.isEmpty && unsupported.isEmpty }

    public init(_ columns: [Shape], known: [String], previous: [Shape]?) {
        let names = columns.map(\.name)
        guard let previous else {
            added = names.filter { !known.contains($0) }
            return
        }
        let before = previous.map(\.name)
        var renamed: Set<String> = []
        for (index, column) in columns.enumerated() {
            if let old = previous.first(where: { $0.name == column.name }) {
                if old.type != column.type { unsupported.append("column \(column.name) changed type") }
            } else if index < before.count, !names.contains(before[index]) {
                // A new name where a column stood, with that column gone: a rename, which a drop and an
                // add would turn into lost values.
                unsupported.append("column \(before[index]) renamed to \(column.name)")
                renamed.insert(before[index])
            } else {
                added.append(column.name)
            }
        }
        dropped = before.filter { !names.contains($0) && !renamed.contains($0) }
    }
}
