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

    func write(_ marker: StreamMarker) throws -> String {
        let log = SQLiteNames.quote(changeTable)
        return try SQLiteErrors.wrap(url) {
            try queue.inDatabase { db in
                if marker.kind == .stop {
                    try db.execute(sql: "INSERT INTO \(log) (tbl, op) VALUES (?, ?)", arguments: [marker.text, SQLiteCapture.markerOperation])
                }
                return String(try Int64.fetchOne(db, sql: "SELECT COALESCE(max(seq), 0) FROM \(log)") ?? 0)
            }
        }
    }

    func reached(_ marker: String, applied: String) -> Bool {
        guard let marker = Int64(marker), let applied = Int64(applied) else { return false }
        return applied >= marker
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
}
