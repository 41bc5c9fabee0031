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
    private var released = false

    init(url: ConnectionURL, task: String, timeout: Double) throws {
        self.url = url
        changeTable = SQLiteCapture.changeTable(task: task)
        var configuration = Configuration()
        configuration.busyMode = .timeout(max(0.001, timeout))
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

    func release() throws {
        guard !released else { return }
        released = true
        try SQLiteErrors.wrap(url) {
            try queue.inDatabase { db in try db.execute(sql: "COMMIT") }
        }
    }
}

extension SQLiteSource {
    public func freezeWrites(_ tables: [TableID], task: String, timeout: Double) throws -> any WriteFreeze {
        try SQLiteWriteFreeze(url: url, task: task, timeout: timeout)
    }

    public func writeMarker(_ marker: StreamMarker, task: String) throws -> String {
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
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
}
