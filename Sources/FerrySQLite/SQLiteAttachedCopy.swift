import FerryCore
import Foundation
import Synchronization

/// SQLite → SQLite without decoding a value: the target attaches the source's file and copies the rows
/// with one `INSERT … SELECT`. With no column list on either side and no WHERE, SQLite moves whole records
/// (its transfer optimization) when the two tables match. The reader sends one batch naming the file and
/// the SELECT; the target runs it in its fenced write transaction.
enum SQLiteAttachedCopy {
    static let encoding = NativeEncoding("sqlite-attached-copy")
    /// The name the source's file is attached under.
    static let alias = "ferry_source"

    /// The batch reading `plan`'s columns where `conditions` hold, from the file at `path`. Every column in
    /// the table's order and no condition is `SELECT *`, which lets SQLite copy whole records.
    static func batch(path: String, plan: TablePlan, conditions: [String]) -> RowBatch {
        let names = plan.columns.map(\.source.name)
        let columns = names == plan.source.columns.map(\.name) ? "*" : names.map(SQLiteNames.quote).joined(separator: ", ")
        var select = "SELECT \(columns) FROM \(alias).\(SQLiteNames.quote(plan.source.id.name))"
        if !conditions.isEmpty { select += " WHERE " + conditions.joined(separator: " AND ") }
        return .encoded(bytes: Array((path + "\n" + select).utf8), rowCount: 0)
    }

    /// Runs `copy` when no other copy into the file at `path` runs in this process. SQLite writes one
    /// transaction at a time anyway; a copy waiting here holds no connection to the file, so the one running
    /// has it to itself and may leave WAL mode (``SQLiteJournalMode``).
    static func oneAtATime<T>(into path: String, _ copy: () throws -> T) rethrows -> T {
        let turn = turns.withLock { turns in
            if let turn = turns[path] { return turn }
            let turn = NSLock()
            turns[path] = turn
            return turn
        }
        return try turn.withLock(copy)
    }

    private static let turns = Mutex<[String: NSLock]>([:])

    /// The file's path and the SELECT a batch carries.
    static func parse(_ bytes: [UInt8]) throws -> (path: String, select: String) {
        let text = String(decoding: bytes, as: UTF8.self)
        guard let newline = text.firstIndex(of: "\n") else {
            throw FerryError(.database, "SQLite target received a copy instruction without its source file")
        }
        return (String(text[..<newline]), String(text[text.index(after: newline)...]))
    }
}
