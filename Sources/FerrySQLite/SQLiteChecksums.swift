import Crypto
import FerryCore
import Foundation
import GRDB
import GRDBSQLite

/// A validation connection to a SQLite file. SQLite runs in Ferry's process, so the canonical texts and
/// hashes are computed here, in exactly the form the server engines compute them in SQL.
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

    func checksums(_ table: ChecksumTable, _ partitioning: Partitioning, buckets: [Int64]?) throws -> [Int64: BucketChecksum] {
        var result: [Int64: BucketChecksum] = [:]
        guard table.digestsInKeyOrder(partitioning) else {
            try scan(table, partitioning, buckets: buckets) { bucket, row in
                var checksum = result[bucket] ?? BucketChecksum(count: 0, sum: 0)
                checksum.count += 1
                checksum.sum &+= Self.hash64(Self.joined(row))
                result[bucket] = checksum
            }
            return result
        }
        // Rows come in key order, so each bucket's rows are contiguous: one digest is open at a time.
        var open: (bucket: Int64, digest: KeyOrderDigester)?
        try scan(table, partitioning, buckets: buckets, inKeyOrder: true) { bucket, row in
            if let current = open, current.bucket != bucket {
                result[current.bucket] = current.digest.checksum
                open = nil
            }
            if open == nil { open = (bucket, KeyOrderDigester()) }
            open?.digest.add(row)
        }
        if let current = open { result[current.bucket] = current.digest.checksum }
        return result
    }

    func rows(_ table: ChecksumTable, _ partitioning: Partitioning, buckets: [Int64]) throws -> [CanonicalRow] {
        var rows: [CanonicalRow] = []
        try scan(table, partitioning, buckets: buckets) { _, row in rows.append(row) }
        return rows
    }

    func rows(_ table: ChecksumTable, keys: [CanonicalRow]) throws -> [CanonicalRow] {
        var rows: [CanonicalRow] = []
        try scan(table, .whole, buckets: nil, where: keyCondition(table, keys: keys)) { _, row in rows.append(row) }
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

    /// Reads the canonical rows of `buckets` (every bucket when nil) and hands each to `body` with its bucket.
    private func scan(_ table: ChecksumTable, _ partitioning: Partitioning, buckets: [Int64]?, where extra: String? = nil,
                      inKeyOrder: Bool = false, _ body: (Int64, CanonicalRow) throws -> Void) throws {
        var restriction = extra
        var wanted: Set<Int64>? = buckets.map(Set.init)
        if let buckets, case .keyRanges = partitioning {
            restriction = [extra, Self.sql.keyRanges(table, partitioning, buckets)].compactMap { $0 }.joined(separator: " AND ")
            wanted = nil
        }
        let columns = table.columns.map { SQLiteNames.quote($0.name) }.joined(separator: ", ")
        let order = inKeyOrder ? " ORDER BY " + table.key.map { SQLiteNames.quote(table.columns[$0].name) }.joined(separator: ", ") : ""
        let sql = "SELECT \(columns) FROM \(SQLiteNames.quote(table.id.name))" + Self.sql.whereClause(table, restriction) + order
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
                    let bucket = Self.bucket(of: row, table, partitioning)
                    if let wanted, !wanted.contains(bucket) { continue }
                    try body(bucket, row)
                }
            }
        }
    }

    static func bucket(of row: CanonicalRow, _ table: ChecksumTable, _ partitioning: Partitioning) -> Int64 {
        switch partitioning {
        case .whole: return 0
        case let .keyRanges(lower, width):
            return ((row[table.key[0]].flatMap { Int64($0) } ?? lower) &- lower) / width
        case let .keyHash(count):
            let digest = Array(Insecure.MD5.hash(data: Array(joined(table.key.map { row[$0] }).utf8)))
            let prefix = digest.prefix(4).reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            return Int64(prefix % UInt64(count))
        }
    }

    /// The row's texts joined as the server engines join them: unit separator between values, record separator for NULL.
    static func joined(_ row: CanonicalRow) -> String {
        row.map { $0 ?? "\u{1E}" }.joined(separator: "\u{1F}")
    }

    /// The first 8 bytes of the MD5 of `text`, big-endian.
    static func hash64(_ text: String) -> UInt64 {
        Insecure.MD5.hash(data: Array(text.utf8)).prefix(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
    }
}

/// Computes a ``KeyOrderDigest`` from a bucket's canonical rows, given in ascending key order.
struct KeyOrderDigester {
    private var md5 = Insecure.MD5()
    private var count: Int64 = 0

    mutating func add(_ row: CanonicalRow) {
        if count > 0 { md5.update(data: Array(KeyOrderDigest.rowSeparator.utf8)) }
        count += 1
        md5.update(data: Array(SQLiteChecksumSession.joined(row.map { $0.map(Self.capped) }).utf8))
    }

    var checksum: BucketChecksum {
        BucketChecksum(count: count, sum: md5.finalize().prefix(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) })
    }

    /// A value as the digest takes it: a value longer than the limit stands in as its MD5 in hex.
    static func capped(_ value: String) -> String {
        guard value.utf8.count > KeyOrderDigest.longValueBytes else { return value }
        return Insecure.MD5.hash(data: Array(value.utf8)).map { String(format: "%02x", $0) }.joined()
    }
}
