import FerryCore
import Foundation
import GRDB
import GRDBSQLite

/// Reads a SQLite file; its one schema is `main`. Each table is read in one read transaction.
public struct SQLiteSource: SourceConnector {
    public let url: ConnectionURL
    public var engine: EngineKind { .sqlite }
    /// Another SQLite file can copy the rows itself (``SQLiteAttachedCopy``).
    public func nativeEncodings(for plan: TablePlan) -> [NativeEncoding] { [SQLiteAttachedCopy.encoding] }

    public init(url: ConnectionURL) {
        self.url = url
    }

    public func openCapture(task: String, schemas: [TableSchema]) throws -> any ChangeCapture {
        SQLiteCapture(url: url, task: task, schemas: schemas)
    }

    func open() throws -> DatabaseQueue {
        let path = url.database ?? ""
        guard FileManager.default.fileExists(atPath: path) else {
            throw FerryError(.connectionFailed, "SQLite \(path): the file does not exist")
        }
        var configuration = Configuration()
        configuration.readonly = true
        configuration.busyMode = .timeout(60)
        do { return try DatabaseQueue(path: path, configuration: configuration) } catch {
            throw FerryError(.connectionFailed, "SQLite \(path): \(error)")
        }
    }

    public func discover(_ mappings: TableMappings) throws -> [TableSchema] {
        let queue = try open()
        return try SQLiteErrors.wrap(url) {
            try queue.read { db in try SQLiteSchemaDiscovery.discover(db, mappings) }
        }
    }

    /// One schema: the file's own (`main`), once the file opens.
    public func schemaNames() throws -> [String] {
        _ = try open()
        return ["main"]
    }

    public func openChecksumSession() throws -> any ChecksumSession {
        SQLiteChecksumSession(source: self)
    }

    /// The rowid's next value: past the highest row and past `sqlite_sequence` for an AUTOINCREMENT table.
    public func counterNextValues(_ table: TableSchema) throws -> [String: Int64] {
        guard let column = table.columns.first(where: { $0.generated?.counter != nil }) else { return [:] }
        let name = SQLiteNames.quote(table.id.name)
        return try SQLiteErrors.wrap(url) {
            try open().read { db in
                let highest = try Int64.fetchOne(db, sql: "SELECT COALESCE(max(rowid), 0) FROM \(name)") ?? 0
                let sequence = try Bool.fetchOne(db, sql: "SELECT 1 FROM sqlite_master WHERE name = 'sqlite_sequence'") == true
                    ? try Int64.fetchOne(db, sql: "SELECT seq FROM sqlite_sequence WHERE name = ?", arguments: [table.id.name]) ?? 0 : 0
                return [column.name: max(highest, sequence) + 1]
            }
        }
    }

    /// Views and triggers (but Ferry's own change-capture triggers).
    public func uncopiedObjects(of tables: [TableSchema]) throws -> [String] {
        guard !tables.isEmpty else { return [] }
        return try SQLiteErrors.wrap(url) {
            try open().read { db in
                try Row.fetchAll(db, sql: """
                    SELECT type, name FROM sqlite_master WHERE type IN ('view', 'trigger')
                      AND name NOT LIKE 'ferry\\_changes\\_%' ESCAPE '\\' ORDER BY type DESC, name
                    """).map { "\($0["type"] as String) main.\($0["name"] as String)" }
            }
        }
    }

    public func openSnapshot(workers: Int) throws -> any SnapshotSession {
        SQLiteSnapshot(source: self)
    }
}

struct SQLiteSnapshot: SnapshotSession {
    let source: SQLiteSource
    static let batchRows = 2000

    func estimatedRows(of table: TableSchema) throws -> Int64 {
        try SQLiteErrors.wrap(source.url) {
            try source.open().read { db in
                try Int64.fetchOne(db, sql: "SELECT count(*) FROM \(SQLiteNames.quote(table.id.name))") ?? 0
            }
        }
    }

    func chunks(of table: TableSchema, estimatedRows: Int64, maxChunks: Int, chunkBytes: Int64) throws -> [ReadChunk] { [.whole] }

    /// Each SQLite read is a snapshot of its own, so ranges would not see one state of the file: one reader.
    func chunks(of table: TableSchema, segments: RangeSegments) throws -> [ReadChunk] { [.whole] }

    func read(_ plan: TablePlan, chunk: ReadChunk, encoding: BatchEncoding, into pipe: BatchPipe) throws {
        let columns = plan.columns.map { SQLiteNames.quote($0.source.name) }.joined(separator: ", ")
        let types = plan.columns.map(\.source.type)
        let conditions = [chunk.predicate, plan.filterSQL(quote: SQLiteNames.quote, literal: SQLiteNames.literal)].compactMap { $0 }
        if encoding == .native(SQLiteAttachedCopy.encoding) {
            return try pipe.send(SQLiteAttachedCopy.batch(path: source.url.database ?? "", plan: plan, conditions: conditions))
        }
        try SQLiteErrors.wrap(source.url) {
            try source.open().read { db in
                var sql = "SELECT \(columns) FROM \(SQLiteNames.quote(plan.source.id.name))"
                if !conditions.isEmpty { sql += " WHERE " + conditions.joined(separator: " AND ") }
                let statement = try db.makeStatement(sql: sql)
                let raw = statement.sqliteStatement
                var batch: [[Value]] = []
                while true {
                    let status = sqlite3_step(raw)
                    if status == SQLITE_DONE { break }
                    guard status == SQLITE_ROW else {
                        throw FerryError(.database, "SQLite \(source.url.database ?? ""): \(String(cString: sqlite3_errmsg(db.sqliteConnection)))")
                    }
                    var values: [Value] = []
                    values.reserveCapacity(types.count)
                    for i in 0..<types.count {
                        values.append(SQLiteValues.decode(raw, column: Int32(i), as: types[i]))
                    }
                    batch.append(values)
                    if batch.count >= Self.batchRows {
                        try pipe.send(.rows(batch))
                        batch.removeAll(keepingCapacity: true)
                    }
                }
                if !batch.isEmpty { try pipe.send(.rows(batch)) }
            }
        }
    }

    func close() {}
}
