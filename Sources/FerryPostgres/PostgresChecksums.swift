import FerryCore

/// The SQL of validation checksums on PostgreSQL. Pure: builds statements, runs nothing.
enum PostgresChecksumSQL {
    static let shared = ChecksumSQL(quote: { PGConnection.quote($0) }, literal: { PGConnection.literal($0) },
                                    binary: { "decode(\(PGConnection.literal($0)), 'hex')" }, never: "false")

    /// The canonical text of a column (CanonicalText describes the form), NULL for NULL.
    static func canonical(_ column: Column) -> String {
        let c = PGConnection.quote(column.name)
        switch column.type {
        case .boolean: return "\(c)::int::text"
        case .decimal:
            return column.nativeType.hasPrefix("numeric") ? "trim_scale(\(c))::text" : "\(c)::text"
        case .binary, .varbinary, .blob: return "encode(\(c), 'hex')"
        case .timestampTZ: return "(\(c) AT TIME ZONE 'UTC')::text"
        case .array: return "array_to_json(\(c))::text"
        // A cast to text is not always the output form (inet's cast adds the netmask); concat uses the output form.
        case .other: return "CASE WHEN \(c) IS NULL THEN NULL ELSE concat(\(c)) END"
        // MySQL writes exponents without a plus sign (`1e20`); so does the canonical form.
        case .float32, .float64: return "replace(\(c)::text, 'e+', 'e')"
        default: return "\(c)::text"
        }
    }

    /// The concatenated canonical texts of `columns`, with a separator and a NULL marker no text contains
    /// (the key of a hashed bucket). concat_ws writes integers and plain text in their canonical form itself.
    static func joined(_ columns: [Column]) -> String {
        "concat_ws(chr(31), " + columns.map { column in
            let text = plainText(column) ? PGConnection.quote(column.name) : canonical(column)
            return column.nullable ? "coalesce(\(text)::text, chr(30))" : text
        }.joined(separator: ", ") + ")"
    }

    /// Whether the column's own text form is its canonical text.
    static func plainText(_ column: Column) -> Bool {
        switch column.type {
        case .integer, .varchar, .text: return true
        default: return false
        }
    }

    /// The canonical text of a column as ``StreamedChecksums`` takes it: with `capped`, a value longer than
    /// its limit replaced by its MD5.
    static func streamed(_ column: Column, capped: Bool) -> String {
        if streamsPadded(column, capped: capped) { return PGConnection.quote(column.name) }
        let text = plainText(column) ? PGConnection.quote(column.name) : canonical(column)
        guard capped, StreamedChecksums.mayBeLong(column.type) else { return text }
        return "CASE WHEN octet_length(\(text)::text) > \(StreamedChecksums.longValueBytes) THEN md5(\(text)::text) ELSE \(text)::text END"
    }

    /// Whether a `char(n)` column streams with its blank padding, which Ferry drops: PostgreSQL's cast
    /// to text costs more than the whole scan. A capped one is trimmed in SQL, where its length is checked.
    static func streamsPadded(_ column: Column, capped: Bool) -> Bool {
        guard case .char = column.type else { return false }
        return !(capped && StreamedChecksums.mayBeLong(column.type))
    }

    /// A bigint hash of the row's native text (``RowHashing/native``).
    static func nativeRowHash(_ table: ChecksumTable) -> String {
        "hashtextextended(ROW(" + table.columns.map { PGConnection.quote($0.name) }.joined(separator: ", ") + ")::text, 0)"
    }

    /// The bucket number of a row.
    static func bucket(_ table: ChecksumTable, _ partitioning: Partitioning) -> String {
        switch partitioning {
        case .whole: return "0::bigint"
        case let .keyRanges(lower, width):
            return "((\(PGConnection.quote(table.columns[table.key[0]].name))::bigint - (\(lower))) / \(width))"
        case let .keyHash(count):
            let keyText = joined(table.key.map { table.columns[$0] })
            switch table.hashing {
            case .native: return "((hashtextextended(\(keyText), 0) & 9223372036854775807) % \(count))"
            case .canonical: return "(('x' || left(md5(\(keyText)), 8))::bit(32)::bigint % \(count))"
            }
        }
    }

    /// A condition selecting the rows of `buckets`.
    static func bucketCondition(_ table: ChecksumTable, _ partitioning: Partitioning, _ buckets: [Int64]) -> String {
        if case .keyRanges = partitioning { return shared.keyRanges(table, partitioning, buckets) }
        return "\(bucket(table, partitioning)) IN (" + buckets.map(String.init).joined(separator: ", ") + ")"
    }

    /// Per bucket: the bucket number, the row count and the exact sum of native row hashes.
    static func nativeChecksums(_ table: ChecksumTable, _ partitioning: Partitioning, buckets: [Int64]?) -> String {
        let restriction = buckets.map { bucketCondition(table, partitioning, $0) }
        return "SELECT \(bucket(table, partitioning)) AS b, count(*), sum(\(nativeRowHash(table)))::text FROM \(PGConnection.quote(table.id))"
            + shared.whereClause(table, restriction) + " GROUP BY 1"
    }

    /// The canonical texts of the rows of `buckets` (every row when nil), in any order, for ``StreamedChecksums``.
    static func streamedRows(_ table: ChecksumTable, _ partitioning: Partitioning, buckets: [Int64]?) -> String {
        let restriction = buckets.map { bucketCondition(table, partitioning, $0) }
        return "COPY (SELECT " + table.streamedColumns(streamed).joined(separator: ", ") + " FROM \(PGConnection.quote(table.id))"
            + shared.whereClause(table, restriction) + ") TO STDOUT"
    }

    /// The canonical text of every column of the rows in `buckets`.
    static func rows(_ table: ChecksumTable, _ partitioning: Partitioning, buckets: [Int64]) -> String {
        "SELECT " + table.columns.map(canonical).joined(separator: ", ") + " FROM \(PGConnection.quote(table.id))"
            + shared.whereClause(table, bucketCondition(table, partitioning, buckets))
    }
}

/// A validation connection to PostgreSQL.
final class PostgresChecksumSession: ChecksumSession, @unchecked Sendable {
    private let conn: PGConnection

    init(url: ConnectionURL) throws {
        conn = try PGConnection(url)
        // Checksum queries group by a computed bucket: PostgreSQL cannot estimate the number of groups and
        // would sort millions of rows; a hash aggregate is far cheaper. JIT compilation only adds start-up time.
        try conn.execute("SET jit = off; SET enable_sort = off")
    }

    func estimatedRows(_ table: ChecksumTable) throws -> Int64 {
        let row = try conn.query("SELECT c.reltuples::bigint, pg_relation_size(c.oid) FROM pg_class c WHERE c.oid = \(PGConnection.literal(PGConnection.quote(table.id)))::regclass")[0]
        let tuples = Int64(row[0] ?? "-1") ?? -1
        return tuples >= 0 ? tuples : (Int64(row[1] ?? "0") ?? 0) / 100
    }

    func keyBounds(_ table: ChecksumTable) throws -> (min: Int64, max: Int64)? {
        let key = PGConnection.quote(table.columns[table.key[0]].name)
        let row = try conn.query("SELECT min(\(key))::text, max(\(key))::text FROM \(PGConnection.quote(table.id))" + PostgresChecksumSQL.shared.whereClause(table))[0]
        guard let low = row[0].flatMap({ Int64($0) }), let high = row[1].flatMap({ Int64($0) }) else { return nil }
        return (low, high)
    }

    func checksums(_ table: ChecksumTable, _ partitioning: Partitioning, buckets: [Int64]?) throws -> [Int64: BucketChecksum] {
        guard table.hashing == .native else {
            var sums = StreamedChecksums(table: table, partitioning: partitioning)
            let padded = table.streamedColumns(PostgresChecksumSQL.streamsPadded)
            try conn.copyOut(PostgresChecksumSQL.streamedRows(table, partitioning, buckets: buckets)) { row in
                var index = 0
                CopyTextCodec.forEachField(row) { value in
                    sums.append(value, droppingTrailingSpaces: padded[index])
                    index += 1
                }
            }
            return sums.checksums
        }
        var result: [Int64: BucketChecksum] = [:]
        for row in try conn.query(PostgresChecksumSQL.nativeChecksums(table, partitioning, buckets: buckets)) {
            result[Int64(row[0] ?? "0") ?? 0] = BucketChecksum(count: row[1], sum: row[2])
        }
        return result
    }

    func rows(_ table: ChecksumTable, _ partitioning: Partitioning, buckets: [Int64]) throws -> [CanonicalRow] {
        try conn.query(PostgresChecksumSQL.rows(table, partitioning, buckets: buckets))
    }

    func rows(_ table: ChecksumTable, keys: [CanonicalRow]) throws -> [CanonicalRow] {
        try conn.query("SELECT " + table.columns.map(PostgresChecksumSQL.canonical).joined(separator: ", ")
            + " FROM \(PGConnection.quote(table.id)) WHERE \(keyCondition(table, keys: keys))")
    }

    func keyCondition(_ table: ChecksumTable, keys: [CanonicalRow]) -> String {
        PostgresChecksumSQL.shared.keyCondition(table, keys: keys)
    }

    func deleteRows(_ table: ChecksumTable, keys: [CanonicalRow]) throws -> Int64 {
        let sql = "WITH deleted AS (DELETE FROM \(PGConnection.quote(table.id)) WHERE \(keyCondition(table, keys: keys)) RETURNING 1) SELECT count(*) FROM deleted"
        return Int64(try conn.query(sql)[0][0] ?? "0") ?? 0
    }

    func close() {}
}
