import FerryCore
import Foundation
import GRDB
import GRDBSQLite

/// Change capture from a SQLite file, which has no log to read: triggers on each captured table write
/// into a change table `ferry_changes_<task>` (sequence, table, operation, rowid, time, old key). Each
/// poll reads the new entries together with the rows' current values, so a change is applied as the row
/// now is: upserts and deletes by key converge to the source's rows. SQLite has one writer at a time, so
/// sequence order is commit order. The position is the last sequence number applied; acknowledged
/// entries are deleted.
final class SQLiteCapture: ChangeCapture, @unchecked Sendable {
    /// Key columns a change table can hold.
    static let maxKeyColumns = 8

    private let url: ConnectionURL
    private var schemas: [TableSchema]
    private let name: String
    private var last: Int64 = 0
    private var queue: DatabaseQueue?
    private var cleanerQueue: DatabaseQueue?
    /// The last acknowledged position whose entries are not removed yet (the file was busy).
    private var unacknowledged: Int64?

    init(url: ConnectionURL, task: String, schemas: [TableSchema]) {
        self.url = url
        self.schemas = schemas
        name = Self.changeTable(task: task)
    }

    /// The change table of a task: `ferry_changes_<task>` (lower case, other characters as `_`).
    static func changeTable(task: String) -> String {
        "ferry_changes_" + String(task.lowercased().map { $0.isLetter || $0.isNumber ? $0 : "_" })
    }

    /// The operation of a change-table entry that is a cutover marker (its `tbl` holds the marker's text).
    static let markerOperation = "M"

    /// The file, writable (for the triggers and for removing applied entries), waiting for the application's writes.
    private func open() throws -> DatabaseQueue {
        if let queue { return queue }
        var configuration = Configuration()
        configuration.busyMode = .timeout(60)
        let queue = try SQLiteErrors.wrap(url) { try DatabaseQueue(path: url.database ?? "", configuration: configuration) }
        self.queue = queue
        return queue
    }

    func update(columnsOf changed: [TableSchema]) {
        schemas = schemas.map { schema in changed.first { $0.id == schema.id } ?? schema }
    }

    func exists() throws -> Bool {
        try SQLiteErrors.wrap(url) {
            try open().read { db in try db.tableExists(name) }
        }
    }

    /// Creates the change table and the triggers; the full load reads the file afterwards, so every change
    /// it might miss is in the table.
    func create(tables: [TableID]) throws -> (position: String, snapshot: String?) {
        let log = SQLiteNames.quote(name)
        let keys = (0..<Self.maxKeyColumns).map { "k\($0)" }.joined(separator: ", ")
        try SQLiteErrors.wrap(url) {
            try open().write { db in
                try db.execute(sql: """
                    CREATE TABLE IF NOT EXISTS \(log) (seq INTEGER PRIMARY KEY AUTOINCREMENT, tbl TEXT NOT NULL, op TEXT NOT NULL,
                      row_id INTEGER, at REAL NOT NULL DEFAULT (julianday('now')), \(keys))
                    """)
                for schema in schemas where tables.contains(schema.id) {
                    try createTriggers(schema, db)
                }
            }
        }
        return (String(try SQLiteErrors.wrap(url) { try open().read { db in try Int64.fetchOne(db, sql: "SELECT COALESCE(max(seq), 0) FROM \(log)") } } ?? 0), nil)
    }

    private func createTriggers(_ schema: TableSchema, _ db: Database) throws {
        let table = schema.id.name
        guard !schema.primaryKey.isEmpty, schema.primaryKey.count <= Self.maxKeyColumns else {
            throw FerryError(.schemaMismatch, "SQLite table \(table) needs a primary key of at most \(Self.maxKeyColumns) columns for change data capture")
        }
        guard try Bool.fetchOne(db, sql: "SELECT sql NOT LIKE '%WITHOUT ROWID%' FROM sqlite_master WHERE type = 'table' AND name = ?", arguments: [table]) ?? false else {
            throw FerryError(.schemaMismatch, "SQLite table \(table) is WITHOUT ROWID, which change data capture cannot follow")
        }
        let log = SQLiteNames.quote(name), quoted = SQLiteNames.quote(table), literal = SQLiteNames.literal(table)
        let keySlots = schema.primaryKey.indices.map { "k\($0)" }.joined(separator: ", ")
        let oldKey = schema.primaryKey.map { "OLD.\(SQLiteNames.quote($0))" }.joined(separator: ", ")
        let prefix = "\(name)_\(table)"
        try db.execute(sql: """
            CREATE TRIGGER IF NOT EXISTS \(SQLiteNames.quote(prefix + "_insert")) AFTER INSERT ON \(quoted)
              BEGIN INSERT INTO \(log) (tbl, op, row_id) VALUES (\(literal), 'I', NEW.rowid); END;
            CREATE TRIGGER IF NOT EXISTS \(SQLiteNames.quote(prefix + "_update")) AFTER UPDATE ON \(quoted)
              BEGIN INSERT INTO \(log) (tbl, op, row_id, \(keySlots)) VALUES (\(literal), 'U', NEW.rowid, \(oldKey)); END;
            CREATE TRIGGER IF NOT EXISTS \(SQLiteNames.quote(prefix + "_delete")) AFTER DELETE ON \(quoted)
              BEGIN INSERT INTO \(log) (tbl, op, \(keySlots)) VALUES (\(literal), 'D', \(oldKey)); END;
            """)
    }

    /// Drops the triggers and the change table.
    func drop() throws {
        try SQLiteErrors.wrap(url) {
            try open().write { db in
                let triggers = try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE ? ESCAPE '\\'",
                                                   arguments: [name.replacingOccurrences(of: "_", with: "\\_") + "\\_%"])
                for trigger in triggers { try db.execute(sql: "DROP TRIGGER IF EXISTS \(SQLiteNames.quote(trigger))") }
                try db.execute(sql: "DROP TABLE IF EXISTS \(SQLiteNames.quote(name))")
            }
        }
    }

    /// Starts after `position`; entries up to it are applied, so the first poll removes any an earlier
    /// run could not (its last acknowledgement found the file busy).
    func start(after position: String) throws {
        try checkStart(at: position)
        last = Int64(position) ?? 0
        if last > 0 { unacknowledged = last }
    }

    func checkStart(at position: String) throws {
        guard Int64(position) != nil else {
            throw FerryError(.invalidParameter, "'\(position)' is not a position in SQLite's change table (a sequence number)")
        }
    }

    /// The changes logged since the last poll, as one transaction; polls every 50 ms until `timeout`.
    func next(timeout: Double) throws -> ChangeTransaction? {
        try removeAcknowledged()
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            let newest = try SQLiteErrors.wrap(url) {
                try open().read { db in try Int64.fetchOne(db, sql: "SELECT COALESCE(max(seq), 0) FROM \(SQLiteNames.quote(name))") ?? 0 }
            }
            // At most a part's worth of entries at once, so that memory stays bounded, and never past a
            // marker: the run it stops applies nothing written after it.
            if newest > last { return try read(upTo: try firstMarker(upTo: min(newest, last + Int64(ChangeTransaction.partSize)))) }
            guard Date().addingTimeInterval(0.05) < deadline else { return nil }
            Thread.sleep(forTimeInterval: 0.05)
        }
    }

    /// Entries after the last position up to `newest`, with each row's current values, in sequence order.
    private func read(upTo newest: Int64) throws -> ChangeTransaction {
        var entries: [(seq: Int64, at: Double, changes: [RowChange])] = []
        try SQLiteErrors.wrap(url) {
            try open().read { db in
                for schema in schemas {
                    entries += try self.entries(of: schema, through: newest, db)
                }
            }
        }
        entries.sort { $0.seq < $1.seq }
        let marker = try SQLiteErrors.wrap(url) {
            try open().read { db in
                try String.fetchOne(db, sql: "SELECT tbl FROM \(SQLiteNames.quote(name)) WHERE op = ? AND seq = ?", arguments: [Self.markerOperation, newest])
            }
        }
        last = newest
        let time = entries.last.map { Date(timeIntervalSince1970: ($0.at - 2_440_587.5) * 86_400) } ?? Date()
        return ChangeTransaction(position: String(newest), commitTime: time, changes: entries.flatMap(\.changes),
                                 marker: marker.flatMap(StreamMarker.init(text:)))
    }

    /// The sequence number of the first marker after the last position and up to `newest`, or `newest`.
    private func firstMarker(upTo newest: Int64) throws -> Int64 {
        try SQLiteErrors.wrap(url) {
            try open().read { db in
                try Int64.fetchOne(db, sql: "SELECT min(seq) FROM \(SQLiteNames.quote(name)) WHERE op = ? AND seq > ? AND seq <= ?",
                                   arguments: [Self.markerOperation, last, newest])
            }
        } ?? newest
    }

    private func entries(of schema: TableSchema, through newest: Int64, _ db: Database) throws -> [(seq: Int64, at: Double, changes: [RowChange])] {
        let names = schema.columns.map(\.name)
        let types = schema.columns.map(\.type)
        let keyIndices = schema.primaryKey.compactMap { names.firstIndex(of: $0) }
        let keySlots = schema.primaryKey.indices.map { ", c.k\($0)" }.joined()
        let columns = names.map { ", t.\(SQLiteNames.quote($0))" }.joined()
        let sql = """
            SELECT c.seq, c.at, c.op, t.rowid IS NOT NULL\(keySlots)\(columns)
            FROM \(SQLiteNames.quote(name)) c LEFT JOIN \(SQLiteNames.quote(schema.id.name)) t ON c.op != 'D' AND t.rowid = c.row_id
            WHERE c.tbl = ? AND c.seq > ? AND c.seq <= ? ORDER BY c.seq
            """
        let statement = try db.makeStatement(sql: sql)
        try statement.setArguments([schema.id.name, last, newest])
        let raw = statement.sqliteStatement
        let firstColumn = Int32(4 + keyIndices.count)
        var result: [(seq: Int64, at: Double, changes: [RowChange])] = []
        while true {
            let status = sqlite3_step(raw)
            if status == SQLITE_DONE { break }
            guard status == SQLITE_ROW else {
                throw FerryError(.database, "SQLite \(url.database ?? ""): \(String(cString: sqlite3_errmsg(db.sqliteConnection)))")
            }
            let op = String(cString: sqlite3_column_text(raw, 2))
            let present = sqlite3_column_int(raw, 3) != 0
            var oldKey = [Value?](repeating: nil, count: names.count)
            for (slot, index) in keyIndices.enumerated() {
                oldKey[index] = SQLiteValues.decode(raw, column: Int32(4 + slot), as: types[index])
            }
            let row: [Value?]? = present ? names.indices.map { SQLiteValues.decode(raw, column: firstColumn + Int32($0), as: types[$0]) } : nil
            var changes: [RowChange] = []
            switch (op, row) {
            case let ("I", row?):
                changes.append(RowChange(table: schema.id, kind: .insert, columns: names, values: row))
            case let ("U", row?):
                // The old key goes with the update, so a key that changed is deleted.
                changes.append(RowChange(table: schema.id, kind: .update, columns: names, values: row, oldValues: oldKey))
            case ("U", nil), ("D", _):
                // The row is gone by now (or was deleted): its key as it was is deleted; a later entry
                // brings whatever replaced it.
                changes.append(RowChange(table: schema.id, kind: .delete, columns: names, values: [], oldValues: oldKey))
            default:
                break
            }
            result.append((sqlite3_column_int64(raw, 0), sqlite3_column_double(raw, 1), changes))
        }
        return result
    }

    /// Removes the applied entries, so the change table stays small. Waits only briefly for the file's
    /// write lock (a cutover's freeze holds it while the stream drains): when it is taken, the entries go
    /// at a later poll.
    func acknowledge(_ position: String) throws {
        guard let seq = Int64(position) else { return }
        unacknowledged = seq
        try removeAcknowledged()
    }

    private func removeAcknowledged() throws {
        guard let seq = unacknowledged else { return }
        try SQLiteErrors.wrap(url) {
            do {
                try cleaner().write { db in try db.execute(sql: "DELETE FROM \(SQLiteNames.quote(name)) WHERE seq <= ?", arguments: [seq]) }
                if unacknowledged == seq { unacknowledged = nil }
            } catch let error as DatabaseError where error.resultCode == .SQLITE_BUSY {
                return
            }
        }
    }

    /// A connection that gives up on the write lock after 50 ms, for acknowledgements. Opening it reads the
    /// file too, so a busy file fails the opening as it fails the removal: both are retried.
    private func cleaner() throws -> DatabaseQueue {
        if let cleanerQueue { return cleanerQueue }
        var configuration = Configuration()
        configuration.busyMode = .timeout(0.05)
        let queue = try DatabaseQueue(path: url.database ?? "", configuration: configuration)
        cleanerQueue = queue
        return queue
    }

    /// Not measured: the change table is emptied as the target applies.
    func retainedBytes() throws -> Int64? { nil }
}
