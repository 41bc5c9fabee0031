import FerryCore
import Foundation
import GRDB

/// Writes frozen on a SQLite file by a write transaction held open (`BEGIN IMMEDIATE`): readers go on,
/// other writers wait for their busy timeout. SQLite has one writer at a time, so the change table's last
/// sequence number, read inside the transaction, is where the freeze began; a `stop` marker is an entry
/// of the change table committed with the release. The transaction ends with Ferry's process; a Ferry
/// that hangs holds it until the cutover's own timeout releases it.
final class SQLiteWriteFreeze: WriteFreeze, @unchecked Sendable {
    let method = "BEGIN IMMEDIATE (a write transaction held open)"
    private let url: ConnectionURL
    private let queue: DatabaseQueue
    private let changeTable: String
    private let tables: [TableID]
    private var released = false

    init(url: ConnectionURL, tables: [TableID], task: String, timeout: Double) throws {
        self.url = url
        self.tables = tables
        changeTable = SQLiteCapture.changeTable(task: task)
        var configuration = Configuration()
        configuration.busyMode = .timeout(max(0.001, timeout))
        // The freeze is a transaction held open across calls.
        configuration.allowsUnsafeTransactions = true
        queue = try SQLiteErrors.wrap(url) { try DatabaseQueue(path: url.database ?? "", configuration: configuration) }
        try SQLiteErrors.wrap(url) {
            try queue.inDatabase { db in try db.execute(sql: "BEGIN IMMEDIATE") }
        }
    }

    /// Under the freeze a `sync` marker needs no entry: the last sequence number is where the freeze began.
    func write(_ marker: StreamMarker) throws -> String {
        try SQLiteErrors.wrap(url) {
            try queue.inDatabase { db in try Self.write(marker, into: changeTable, db, entry: marker.kind == .stop) }
        }
    }

    /// Appends the marker's entry to the change table (when `entry`); returns the last sequence number.
    static func write(_ marker: StreamMarker, into changeTable: String, _ db: Database, entry: Bool) throws -> String {
        let log = SQLiteNames.quote(changeTable)
        if entry {
            try db.execute(sql: "INSERT INTO \(log) (tbl, op) VALUES (?, ?)", arguments: [marker.text, SQLiteCapture.markerOperation])
        }
        return String(try Int64.fetchOne(db, sql: "SELECT COALESCE(max(seq), 0) FROM \(log)") ?? 0)
    }

    func fence(note: String) throws {
        try SQLiteErrors.wrap(url) {
            try queue.inDatabase { db in
                try db.execute(sql: "CREATE TABLE IF NOT EXISTS \(SQLiteWriteFence.bypassTable) (applier INTEGER)")
                for table in tables { try db.execute(sql: SQLiteWriteFence.triggersSQL(table.name, note: "\(table): \(note)")) }
            }
        }
    }

    func release() throws { try end("COMMIT") }

    func abandon() throws { try end("ROLLBACK") }

    private func end(_ statement: String) throws {
        guard !released else { return }
        released = true
        try SQLiteErrors.wrap(url) {
            try queue.inDatabase { db in try db.execute(sql: statement) }
        }
    }
}

/// The write fence on SQLite: triggers `ferry_write_fence_<table>_<op>` that abort every write unless the
/// writing transaction holds a row in `ferry_write_fence_bypass`. SQLite has one writer at a time, so only
/// the transaction that inserted the row (a Ferry applier's, which deletes it before committing) ever sees it.
enum SQLiteWriteFence {
    static let bypassTable = ControlTableNames.writeFenceBypass
    static let triggerPrefix = ControlTableNames.writeFence + "_"

    static func triggersSQL(_ table: String, note: String) -> String {
        ["INSERT", "UPDATE", "DELETE"].map { operation in
            let trigger = SQLiteNames.quote("\(triggerPrefix)\(table)_\(operation.lowercased())")
            return "DROP TRIGGER IF EXISTS \(trigger); CREATE TRIGGER \(trigger) BEFORE \(operation) ON \(SQLiteNames.quote(table)) "
                + "WHEN NOT EXISTS (SELECT 1 FROM \(bypassTable)) BEGIN SELECT RAISE(ABORT, \(SQLiteNames.literal(note))); END;"
        }.joined(separator: "\n")
    }

    static func removeSQL(_ table: String) -> String {
        ["insert", "update", "delete"].map { "DROP TRIGGER IF EXISTS \(SQLiteNames.quote("\(triggerPrefix)\(table)_\($0)"));" }.joined(separator: "\n")
    }

    /// Lets the writing transaction through the fence, when there is one; `body` runs inside.
    static func bypassing<T>(_ db: Database, _ body: () throws -> T) throws -> T {
        let fenced = try Bool.fetchOne(db, sql: "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", arguments: [bypassTable]) == true
        if fenced { try db.execute(sql: "INSERT INTO \(bypassTable) VALUES (1)") }
        let result = try body()
        if fenced { try db.execute(sql: "DELETE FROM \(bypassTable)") }
        return result
    }
}

extension SQLiteSource {
    public func freezeWrites(_ tables: [TableID], task: String, timeout: Double) throws -> any WriteFreeze {
        try SQLiteWriteFreeze(url: url, tables: tables, task: task, timeout: timeout)
    }

    /// Waits at most 0.2 s for the file's write lock: a heartbeat must not hold up the stream while a
    /// cutover's freeze holds it.
    public func writeMarker(_ marker: StreamMarker, task: String) throws -> String {
        var configuration = Configuration()
        configuration.busyMode = .timeout(0.2)
        return try SQLiteErrors.wrap(url) {
            try DatabaseQueue(path: url.database ?? "", configuration: configuration).write { db in
                try SQLiteWriteFreeze.write(marker, into: SQLiteCapture.changeTable(task: task), db, entry: true)
            }
        }
    }

    public func position(_ applied: String, covers marker: String) -> Bool {
        guard let marker = Int64(marker), let applied = Int64(applied) else { return false }
        return applied >= marker
    }

    public func fencedTables(_ tables: [TableID]) throws -> [TableID] {
        let triggers = try SQLiteErrors.wrap(url) {
            try open().read { db in Set(try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'trigger'")) }
        }
        return tables.filter { triggers.contains(SQLiteWriteFence.triggerPrefix + $0.name + "_insert") }
    }

    /// SQLite has one writer at a time, whom the freeze waits for within its busy timeout, and no
    /// prepared transactions; who else writes cannot be seen.
    public func cutoverBlockers(olderThan seconds: Double, asNewPrimary: Bool) throws -> [String] { [] }
}
