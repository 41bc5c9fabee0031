import FerryCore
import Foundation
import GRDB
import GRDBSQLite

/// A validation connection to a SQLite file. SQLite runs in Ferry's process, so the canonical texts are
/// computed here, in exactly the form the server engines write them in SQL, and summed by ``StreamedChecksums``.
final class SQLiteChecksumSession: ChecksumSession, @unchecked Sendable {
    private let source: SQLiteSource
    static let sql = ChecksumSQL(quote: { SQLiteNames.quote($0) }, literal: { SQLiteNames.literal($0) },
                                 binary: { "X'\($0)'" }, never: "0")

    init(source: SQLiteSource) {
        self.source = source
    }

    func estimatedRows(_ table: ChecksumTable) throws -> Int64 {
        try SQLiteErrors.wrap(source.url) {
            try source.open().read { db in
                try Int64.fetchOne(db, sql: "SELECT count(*) FROM \(SQLiteNames.quote(table.id.name))") ?? 0
            }
        }
    }

    func keyBounds(_ table: ChecksumTable) throws -> (min: Int64, max: Int64)? {
        let key = SQLiteNames.quote(table.columns[table.key[0]].name)
        let sql = "SELECT min(\(key)), max(\(key)) FROM \(SQLiteNames.quote(table.id.name))" + Self.sql.whereClause(table)
        return try SQLiteErrors.wrap(source.url) {
            try source.open().read { db in
                guard let row = try Row.fetchOne(db, sql: sql), let low = row[0] as Int64?, let high = row[1] as Int64? else { return nil }
                return (low, high)
            }
        }
    }

    /// SQLite's checksums are always summed in Ferry, whatever the hashing.
    func checksums(_ table: ChecksumTable, _ partitioning: Partitioning, buckets: [Int64]?) throws -> [Int64: BucketChecksum] {
        var sums = StreamedChecksums(table: table, partitioning: partitioning)
        try scan(table, partitioning, buckets: buckets) { row in
            for (index, value) in row.enumerated() {
                sums.append(table.key.contains(index) ? value : value.map(StreamedChecksums.capped))
            }
        }
        return sums.checksums
    }

    func rows(_ table: ChecksumTable, _ partitioning: Partitioning, buckets: [Int64]) throws -> [CanonicalRow] {
        var rows: [CanonicalRow] = []
        try scan(table, partitioning, buckets: buckets) { row in rows.append(row) }
        return rows
    }

    func rows(_ table: ChecksumTable, keys: [CanonicalRow]) throws -> [CanonicalRow] {
        var rows: [CanonicalRow] = []
        try scan(table, .whole, buckets: nil, where: keyCondition(table, keys: keys)) { rows.append($0) }
        return rows
    }

    func keyCondition(_ table: ChecksumTable, keys: [CanonicalRow]) -> String {
        Self.sql.keyCondition(table, keys: keys)
    }

    func deleteRows(_ table: ChecksumTable, keys: [CanonicalRow]) throws -> Int64 {
        let sql = "DELETE FROM \(SQLiteNames.quote(table.id.name)) WHERE \(keyCondition(table, keys: keys))"
        return try SQLiteErrors.wrap(source.url) {
            // Other tables may be repaired (written) at the same time: wait for the file's write lock.
            var configuration = Configuration()
            configuration.busyMode = .timeout(300)
            return try DatabaseQueue(path: source.url.database ?? "", configuration: configuration).write { db in
                try db.execute(sql: sql)
                return Int64(db.changesCount)
            }
        }
    }

    func close() {}

    /// Reads the canonical rows of `buckets` (every bucket when nil) and hands each to `body`.
    private func scan(_ table: ChecksumTable, _ partitioning: Partitioning, buckets: [Int64]?, where extra: String? = nil,
                      _ body: (CanonicalRow) throws -> Void) throws {
        var restriction = extra
        var wanted: Set<Int64>? = buckets.map(Set.init)
        if let buckets, case .keyRanges = partitioning {
            restriction = [extra, Self.sql.keyRanges(table, partitioning, buckets)].compactMap { $0 }.joined(separator: " AND ")
            wanted = nil
        }
        let columns = table.columns.map { SQLiteNames.quote($0.name) }.joined(separator: ", ")
        let sql = "SELECT \(columns) FROM \(SQLiteNames.quote(table.id.name))" + Self.sql.whereClause(table, restriction)
        let types = table.columns.map(\.type)
        try SQLiteErrors.wrap(source.url) {
            try source.open().read { db in
                let statement = try db.makeStatement(sql: sql)
                let raw = statement.sqliteStatement
                while true {
                    let status = sqlite3_step(raw)
                    if status == SQLITE_DONE { break }
                    guard status == SQLITE_ROW else {
                        throw FerryError(.database, "SQLite \(source.url.database ?? ""): \(String(cString: sqlite3_errmsg(db.sqliteConnection)))")
                    }
                    var row: CanonicalRow = []
                    row.reserveCapacity(types.count)
                    for (i, type) in types.enumerated() {
                        row.append(CanonicalText.of(SQLiteValues.decode(raw, column: Int32(i), as: type), as: type))
                    }
                    if let wanted, !wanted.contains(StreamedChecksums.bucket(key: table.key.map { row[$0].map { ArraySlice($0.utf8) } }, partitioning)) {
                        continue
                    }
                    try body(row)
                }
            }
        }
    }
}
