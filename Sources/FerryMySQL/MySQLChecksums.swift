import FerryCore
import Foundation

/// The SQL of validation checksums on MySQL/MariaDB. Pure: builds statements, runs nothing.
enum MySQLChecksumSQL {
    static let shared = ChecksumSQL(quote: { MySQLConnection.quote($0) }, literal: { MySQLConnection.literal($0) },
                                    binary: { "UNHEX(\(MySQLConnection.literal($0)))" }, never: "FALSE")

    /// The canonical text of a column (CanonicalText describes the form), NULL for NULL. Text is converted
    /// to utf8mb4 so that every engine hashes the same UTF-8 bytes.
    static func canonical(_ column: Column) -> String {
        let c = MySQLConnection.quote(column.name)
        switch column.type {
        case .boolean: return "CAST((\(c) <> 0) AS CHAR)"
        case let .decimal(_, scale) where (scale ?? 0) > 0: return trimmedFraction("CAST(\(c) AS CHAR)")
        case let .time(precision) where (precision ?? 0) > 0: return trimmedFraction("CAST(\(c) AS CHAR)")
        case let .timestamp(precision) where (precision ?? 0) > 0: return trimmedFraction("CAST(\(c) AS CHAR)")
        case let .timestampTZ(precision) where (precision ?? 0) > 0: return trimmedFraction("CAST(\(c) AS CHAR)")
        case .binary, .varbinary, .blob: return "LOWER(HEX(\(c)))"
        case let .bit(length, false): return "LPAD(BIN(\(c)), \(length), '0')"
        case .char, .varchar, .text, .json, .enumeration, .set: return "CONVERT(\(c) USING utf8mb4)"
        default:
            return column.nativeType.hasPrefix("geometry:") ? "ST_AsText(\(c))" : "CAST(\(c) AS CHAR)"
        }
    }

    /// `12:00:00.500000` → `12:00:00.5`, `03:04:00.000000` → `03:04:00`.
    static func trimmedFraction(_ text: String) -> String {
        "TRIM(TRAILING '.' FROM TRIM(TRAILING '0' FROM \(text)))"
    }

    /// The concatenated texts of `columns` (canonical or as stored), with a separator and a NULL marker.
    /// CONCAT_WS writes integers in their canonical form itself, so those go in as they are.
    static func joined(_ columns: [Column], canonical: Bool) -> String {
        "CONCAT_WS(CHAR(31), " + columns.map { column in
            let text = canonical ? streamed(column, capped: false) : MySQLConnection.quote(column.name)
            return column.nullable ? "COALESCE(\(text), CHAR(30))" : text
        }.joined(separator: ", ") + ")"
    }

    /// The canonical text of a column as ``StreamedChecksums`` takes it (integers as they are); with
    /// `capped`, a value longer than its limit replaced by its MD5.
    static func streamed(_ column: Column, capped: Bool) -> String {
        var text = MySQLConnection.quote(column.name)
        if case .integer = column.type {} else { text = canonical(column) }
        guard capped, StreamedChecksums.mayBeLong(column.type) else { return text }
        return "IF(LENGTH(\(text)) > \(StreamedChecksums.longValueBytes), MD5(\(text)), \(text))"
    }

    /// An unsigned 64-bit hash of the row's native text (``RowHashing/native``): MariaDB joins two CRCs
    /// (CRC32C is MariaDB's), MySQL takes MD5.
    static func nativeRowHash(_ table: ChecksumTable, mariaDB: Bool) -> String {
        let text = joined(table.columns, canonical: false)
        return mariaDB ? "((CRC32(\(text)) << 32) | CRC32C(\(text)))" : "CAST(CONV(LEFT(MD5(\(text)), 16), 16, 10) AS UNSIGNED)"
    }

    /// The bucket number of a row.
    static func bucket(_ table: ChecksumTable, _ partitioning: Partitioning, mariaDB: Bool) -> String {
        switch partitioning {
        case .whole: return "0"
        case let .keyRanges(lower, width):
            return "((CAST(\(MySQLConnection.quote(table.columns[table.key[0]].name)) AS SIGNED) - (\(lower))) DIV \(width))"
        case let .keyHash(count):
            let keyColumns = table.key.map { table.columns[$0] }
            if table.hashing == .native, mariaDB {
                return "(CRC32(\(joined(keyColumns, canonical: false))) % \(count))"
            }
            return "(CONV(LEFT(MD5(\(joined(keyColumns, canonical: true))), 8), 16, 10) % \(count))"
        }
    }

    /// A condition selecting the rows of `buckets`.
    static func bucketCondition(_ table: ChecksumTable, _ partitioning: Partitioning, _ buckets: [Int64], mariaDB: Bool) -> String {
        if case .keyRanges = partitioning { return shared.keyRanges(table, partitioning, buckets) }
        return "\(bucket(table, partitioning, mariaDB: mariaDB)) IN (" + buckets.map(String.init).joined(separator: ", ") + ")"
    }

    /// Per bucket: the bucket number, the row count and the exact sum of native row hashes.
    static func nativeChecksums(_ table: ChecksumTable, _ partitioning: Partitioning, buckets: [Int64]?, mariaDB: Bool) -> String {
        let restriction = buckets.map { bucketCondition(table, partitioning, $0, mariaDB: mariaDB) }
        return "SELECT \(bucket(table, partitioning, mariaDB: mariaDB)) AS b, COUNT(*), CAST(SUM(\(nativeRowHash(table, mariaDB: mariaDB))) AS CHAR)"
            + " FROM \(MySQLConnection.quote(table.id))" + shared.whereClause(table, restriction) + " GROUP BY 1"
    }

    /// The canonical texts of the rows of `buckets` (every row when nil), in any order, for ``StreamedChecksums``.
    static func streamedRows(_ table: ChecksumTable, _ partitioning: Partitioning, buckets: [Int64]?, mariaDB: Bool) -> String {
        let restriction = buckets.map { bucketCondition(table, partitioning, $0, mariaDB: mariaDB) }
        return "SELECT " + table.streamedColumns(streamed).joined(separator: ", ") + " FROM \(MySQLConnection.quote(table.id))"
            + shared.whereClause(table, restriction)
    }

    /// The canonical text of every column of the rows in `buckets`.
    static func rows(_ table: ChecksumTable, _ partitioning: Partitioning, buckets: [Int64], mariaDB: Bool) -> String {
        "SELECT " + table.columns.map(canonical).joined(separator: ", ") + " FROM \(MySQLConnection.quote(table.id))"
            + shared.whereClause(table, bucketCondition(table, partitioning, buckets, mariaDB: mariaDB))
    }
}

/// A validation connection to MySQL/MariaDB.
final class MySQLChecksumSession: ChecksumSession, @unchecked Sendable {
    private let conn: MySQLConnection
    private let url: ConnectionURL

    init(url: ConnectionURL) throws {
        self.url = url
        conn = try MySQLConnection(url)
    }

    func estimatedRows(_ table: ChecksumTable) throws -> Int64 {
        let row = try conn.query("""
            SELECT TABLE_ROWS FROM information_schema.TABLES
            WHERE TABLE_SCHEMA = \(MySQLConnection.literal(table.id.schema)) AND TABLE_NAME = \(MySQLConnection.literal(table.id.name))
            """).first
        return row?[0].flatMap { Int64($0) } ?? 0
    }

    func keyBounds(_ table: ChecksumTable) throws -> (min: Int64, max: Int64)? {
        let key = MySQLConnection.quote(table.columns[table.key[0]].name)
        let row = try conn.query("SELECT MIN(\(key)), MAX(\(key)) FROM \(MySQLConnection.quote(table.id))" + MySQLChecksumSQL.shared.whereClause(table)).first
        guard let low = row?[0].flatMap({ Int64($0) }), let high = row?[1].flatMap({ Int64($0) }) else { return nil }
        return (low, high)
    }

    /// A MySQL query runs on one core; a whole large table is therefore checksummed as several key ranges at once.
    func checksums(_ table: ChecksumTable, _ partitioning: Partitioning, buckets: [Int64]?) throws -> [Int64: BucketChecksum] {
        let parts = ProcessInfo.processInfo.activeProcessorCount
        guard buckets == nil, parts > 1, case let .keyRanges(lower, width) = partitioning,
              try estimatedRows(table) >= Self.parallelScanRows, let bounds = try keyBounds(table) else {
            return try Self.checksums(conn, table, partitioning, buckets: buckets)
        }
        let last = (bounds.max - lower) / width
        let step = last / Int64(parts) + 1
        let ranges = (0..<Int64(parts)).map { Array(($0 * step)..<min(last + 1, ($0 + 1) * step)) }
        let results = LockedResults(count: parts)
        DispatchQueue.concurrentPerform(iterations: parts) { index in
            results.set(index, Result {
                guard !ranges[index].isEmpty else { return [:] }
                return try Self.checksums(index == 0 ? conn : MySQLConnection(url), table, partitioning, buckets: ranges[index])
            })
        }
        return try results.all().reduce(into: [:]) { $0.merge($1) { a, _ in a } }
    }

    static let parallelScanRows: Int64 = 1_000_000

    private static func checksums(_ conn: MySQLConnection, _ table: ChecksumTable, _ partitioning: Partitioning,
                                  buckets: [Int64]?) throws -> [Int64: BucketChecksum] {
        guard table.hashing == .native else {
            var sums = StreamedChecksums(table: table, partitioning: partitioning)
            try conn.stream(MySQLChecksumSQL.streamedRows(table, partitioning, buckets: buckets, mariaDB: conn.isMariaDB)) { fields in
                for field in fields { sums.append(field.map(UnsafeRawBufferPointer.init)) }
            }
            return sums.checksums
        }
        var result: [Int64: BucketChecksum] = [:]
        let sql = MySQLChecksumSQL.nativeChecksums(table, partitioning, buckets: buckets, mariaDB: conn.isMariaDB)
        for row in try conn.query(sql) {
            result[Int64(row[0] ?? "0") ?? 0] = BucketChecksum(count: row[1], sum: row[2])
        }
        return result
    }

    func rows(_ table: ChecksumTable, _ partitioning: Partitioning, buckets: [Int64]) throws -> [CanonicalRow] {
        try conn.query(MySQLChecksumSQL.rows(table, partitioning, buckets: buckets, mariaDB: conn.isMariaDB))
    }

    func rows(_ table: ChecksumTable, keys: [CanonicalRow]) throws -> [CanonicalRow] {
        try conn.query("SELECT " + table.columns.map(MySQLChecksumSQL.canonical).joined(separator: ", ")
            + " FROM \(MySQLConnection.quote(table.id)) WHERE \(keyCondition(table, keys: keys))")
    }

    func keyCondition(_ table: ChecksumTable, keys: [CanonicalRow]) -> String {
        MySQLChecksumSQL.shared.keyCondition(table, keys: keys)
    }

    func deleteRows(_ table: ChecksumTable, keys: [CanonicalRow]) throws -> Int64 {
        Int64(try conn.execute(bytes: Array("DELETE FROM \(MySQLConnection.quote(table.id)) WHERE \(keyCondition(table, keys: keys))".utf8)))
    }

    func close() {}
}

/// Results of parallel work, one slot per task.
private final class LockedResults: @unchecked Sendable {
    private let lock = NSLock()
    private var slots: [Result<[Int64: BucketChecksum], Error>?]

    init(count: Int) {
        slots = Array(repeating: nil, count: count)
    }

    func set(_ index: Int, _ result: Result<[Int64: BucketChecksum], Error>) {
        lock.withLock { slots[index] = result }
    }

    func all() throws -> [[Int64: BucketChecksum]] {
        try lock.withLock { slots }.map { try $0!.get() }
    }
}
