import FerryCore

/// Temporary tables through which the change applier's large upserts reach their target tables: the
/// rows go in with one `COPY … FROM STDIN`, then one `INSERT … SELECT … ON CONFLICT DO UPDATE` moves them.
/// PostgreSQL parses COPY's text far more cheaply than a multi-row VALUES list of literals, and Ferry
/// writes COPY text without building a literal. One stage per target table and column list, per
/// connection; `ON COMMIT DELETE ROWS` empties it at each commit.
struct PostgresStages {
    /// An upsert of at least this many rows goes through a stage; a smaller one is sent as VALUES lists,
    /// which takes fewer round trips (the steady trickle of a stream that keeps up).
    static let minimumRows = 200

    /// Stages filled in the current transaction: used again, they are emptied first.
    private var filled: Set<String> = []

    /// The stage for `columns` (target names) of `table`, and the statements that ready it: create it if
    /// this session has none (a stage made in a transaction that rolled back is gone), empty it if this
    /// transaction already filled it.
    mutating func prepare(_ table: TableID, columns: [String]) -> (name: String, sql: String) {
        let name = Self.name(table, columns)
        let quotedColumns = columns.map(PGConnection.quote).joined(separator: ", ")
        var sql = "CREATE TEMP TABLE IF NOT EXISTS \(name) ON COMMIT DELETE ROWS AS SELECT \(quotedColumns) FROM \(PGConnection.quote(table)) WITH NO DATA;\n"
        if !filled.insert(name).inserted { sql += "TRUNCATE \(name);\n" }
        return (name, sql)
    }

    /// The transaction committed or rolled back: every stage is empty.
    mutating func transactionEnded() {
        filled.removeAll()
    }

    /// A name unique to the table and the column list (FNV-1a of both), so that a column added later
    /// gets a stage of its own.
    static func name(_ table: TableID, _ columns: [String]) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in ([table.schema, table.name] + columns).joined(separator: "\u{1}").utf8 {
            hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3
        }
        return "ferry_stage_" + String(hash, radix: 16)
    }
}
