import FerryCore

/// SQLite → SQLite without decoding a value: the target attaches the source's file and copies the rows
/// with one `INSERT … SELECT` (SQLite moves whole records when the tables match). The reader sends one
/// batch naming the file and the SELECT; the target runs it in its fenced write transaction.
enum SQLiteAttachedCopy {
    static let encoding = NativeEncoding("sqlite-attached-copy")
    /// The name the source's file is attached under.
    static let alias = "ferry_source"

    /// The batch for reading `columns` (quoted) of `table` where `conditions` hold, from the file at `path`.
    static func batch(path: String, table: String, columns: String, conditions: [String]) -> RowBatch {
        var select = "SELECT \(columns) FROM \(alias).\(SQLiteNames.quote(table))"
        if !conditions.isEmpty { select += " WHERE " + conditions.joined(separator: " AND ") }
        return .encoded(bytes: Array((path + "\n" + select).utf8), rowCount: 0)
    }

    /// The file's path and the SELECT a batch carries.
    static func parse(_ bytes: [UInt8]) throws -> (path: String, select: String) {
        let text = String(decoding: bytes, as: UTF8.self)
        guard let newline = text.firstIndex(of: "\n") else {
            throw FerryError(.database, "SQLite target received a copy instruction without its source file")
        }
        return (String(text[..<newline]), String(text[text.index(after: newline)...]))
    }
}
