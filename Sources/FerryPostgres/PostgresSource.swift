import FerryCore

/// Reads PostgreSQL tables with `COPY … TO STDOUT` inside one exported snapshot.
public struct PostgresSource: SourceConnector {
    public let url: ConnectionURL
    public var engine: EngineKind { .postgres }
    /// COPY binary when every column is a built-in type (a user type's binary form carries OIDs that
    /// differ between servers), else COPY text; and MySQL's `LOAD DATA` text when every column's text is
    /// what MySQL takes (``PostgresLoadDataText``).
    public func nativeEncodings(for plan: TablePlan) -> [NativeEncoding] {
        let types = plan.columns.map(\.source.type)
        return (types.allSatisfy(Self.hasPortableBinaryForm) ? [PostgresTarget.copyBinary, PostgresTarget.copyText] : [PostgresTarget.copyText])
            + (types.allSatisfy(PostgresLoadDataText.carries) ? [.mysqlLoadDataText] : [])
    }

    static func hasPortableBinaryForm(_ type: ColumnType) -> Bool {
        switch type {
        case .enumeration, .other: return false
        case let .array(element): return hasPortableBinaryForm(element)
        default: return true
        }
    }

    public init(url: ConnectionURL) {
        self.url = url
    }

    public func discover(_ mappings: TableMappings) throws -> [TableSchema] {
        try PostgresSchemaDiscovery.discover(PGConnection(url), mappings)
    }

    public func openChecksumSession() throws -> any ChecksumSession {
        try PostgresChecksumSession(url: url)
    }

    public func schemaNames() throws -> [String] {
        try PGConnection(url).query("""
            SELECT nspname FROM pg_namespace WHERE nspname NOT LIKE 'pg\\_%' AND nspname <> 'information_schema' ORDER BY nspname
            """).compactMap { $0[0] }
    }

    /// Each counter's sequence: its last value plus its increment, or its start when never used.
    public func counterNextValues(_ table: TableSchema) throws -> [String: Int64] {
        let conn = try PGConnection(url)
        var values: [String: Int64] = [:]
        for column in table.columns where column.generated?.counter != nil {
            let sequence = "pg_get_serial_sequence(\(PGConnection.literal(PGConnection.quote(table.id))), \(PGConnection.literal(column.name)))"
            let rows = try conn.query("""
                SELECT COALESCE(last_value + increment_by, start_value) FROM pg_sequences
                WHERE format('%I.%I', schemaname, sequencename)::regclass = \(sequence)::regclass
                """)
            if let text = rows.first?[0], let value = Int64(text) { values[column.name] = value }
        }
        return values
    }

    public func standaloneSequences(of tables: [TableSchema]) throws -> [SequenceDefinition] {
        guard !tables.isEmpty else { return [] }
        let schemas = Set(tables.map(\.id.schema)).sorted().map(PGConnection.literal).joined(separator: ", ")
        return try PGConnection(url).query("""
            SELECT s.schemaname, s.sequencename, s.data_type::text, s.start_value, s.increment_by, s.min_value, s.max_value, s.cycle,
                   COALESCE(s.last_value + s.increment_by, s.start_value)
            FROM pg_sequences s
            WHERE s.schemaname IN (\(schemas)) AND NOT EXISTS (SELECT 1 FROM pg_depend d
              WHERE d.objid = format('%I.%I', s.schemaname, s.sequencename)::regclass AND d.deptype IN ('a', 'i', 'e'))
            ORDER BY 1, 2
            """).compactMap { row in
            guard let start = row[3].flatMap({ Int64($0) }), let increment = row[4].flatMap({ Int64($0) }), let minimum = row[5].flatMap({ Int64($0) }),
                  let maximum = row[6].flatMap({ Int64($0) }), let next = row[8].flatMap({ Int64($0) }) else { return nil }
            return SequenceDefinition(id: TableID(schema: row[0]!, name: row[1]!), dataType: row[2] ?? "bigint", start: start, increment: increment,
                                      minimum: minimum, maximum: maximum, cycles: row[7] == "t", next: next)
        }
    }

    /// Views, triggers on the selected tables, and functions and procedures of their schemas (not those an
    /// extension owns).
    public func uncopiedObjects(of tables: [TableSchema]) throws -> [String] {
        guard !tables.isEmpty else { return [] }
        let schemas = Set(tables.map(\.id.schema)).sorted().map(PGConnection.literal).joined(separator: ", ")
        let names = tables.map { PGConnection.literal(PGConnection.quote($0.id)) }.joined(separator: ", ")
        func extensionOwned(_ oid: String) -> String { "EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = \(oid) AND d.deptype = 'e')" }
        return try PGConnection(url).query("""
            SELECT CASE c.relkind WHEN 'm' THEN 'materialized view' ELSE 'view' END, format('%I.%I', n.nspname, c.relname)
              FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
              WHERE c.relkind IN ('v', 'm') AND n.nspname IN (\(schemas)) AND NOT \(extensionOwned("c.oid"))
            UNION ALL
            SELECT 'trigger', format('%s on %s', t.tgname, t.tgrelid::regclass)
              FROM pg_trigger t WHERE NOT t.tgisinternal AND t.tgrelid IN (SELECT unnest(ARRAY[\(names)])::regclass)
            UNION ALL
            SELECT CASE p.prokind WHEN 'p' THEN 'procedure' ELSE 'function' END, format('%I.%I', n.nspname, p.proname)
              FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
              WHERE n.nspname IN (\(schemas)) AND p.prokind IN ('f', 'p') AND NOT \(extensionOwned("p.oid"))
            ORDER BY 1, 2
            """).map { "\($0[0] ?? "") \($0[1] ?? "")" }
    }

    public func openSnapshot(workers: Int) throws -> any SnapshotSession {
        try PostgresSnapshot(url: url)
    }

    public func openSnapshot(workers: Int, importing snapshot: String) throws -> any SnapshotSession {
        try PostgresSnapshot(url: url, importing: snapshot)
    }

    public func openCapture(task: String, schemas: [TableSchema]) throws -> any ChangeCapture {
        try PostgresCapture(url: url, task: task, schemas: schemas)
    }
}

/// A snapshot exported by one coordinating transaction and imported by every reader.
final class PostgresSnapshot: SnapshotSession, @unchecked Sendable {
    private let url: ConnectionURL
    private let coordinator: PGConnection
    private let snapshotID: String
    static let pageSize: Int64 = 8192

    /// Exports a new snapshot, or imports `snapshot` (one a replication slot exported).
    init(url: ConnectionURL, importing snapshot: String? = nil) throws {
        self.url = url
        coordinator = try PGConnection(url)
        try coordinator.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        if let snapshot {
            try coordinator.execute("SET TRANSACTION SNAPSHOT \(PGConnection.literal(snapshot))")
            snapshotID = snapshot
        } else {
            snapshotID = try coordinator.query("SELECT pg_export_snapshot()")[0][0]!
        }
    }

    /// PostgreSQL imports an exported snapshot in any session of the same database.
    var sharedSnapshot: String? { snapshotID }

    func estimatedRows(of table: TableSchema) throws -> Int64 {
        let row = try coordinator.query("SELECT c.reltuples::bigint, pg_relation_size(c.oid) FROM pg_class c WHERE c.oid = \(regclass(table.id))")[0]
        let tuples = Int64(row[0] ?? "-1") ?? -1
        let bytes = Int64(row[1] ?? "0") ?? 0
        if tuples >= 0, !(tuples == 0 && bytes > 0) { return tuples }
        if bytes < 64 << 20 {
            return Int64(try coordinator.query("SELECT count(*) FROM \(PGConnection.quote(table.id))")[0][0] ?? "0") ?? 0
        }
        return bytes / 100
    }

    /// Ranges of the table's integer key where it has one (a load that stopped resumes by range), else
    /// ranges of its pages (ctid), read again whole after a stop: rows move between pages when updated.
    func chunks(of table: TableSchema, estimatedRows: Int64, maxChunks: Int, chunkBytes: Int64) throws -> [ReadChunk] {
        let bytes = Int64(try coordinator.query("SELECT pg_relation_size(\(regclass(table.id)))")[0][0] ?? "0") ?? 0
        let count = Int(min(Int64(maxChunks), (bytes + chunkBytes - 1) / chunkBytes))
        guard count > 1 else { return [.whole] }
        if table.primaryKey.count == 1, let key = table.column(named: table.primaryKey[0]), case .integer = key.type {
            let column = PGConnection.quote(key.name)
            let bounds = try coordinator.query("SELECT min(\(column))::text, max(\(column))::text FROM \(PGConnection.quote(table.id))").first
            if let low = bounds?[0].flatMap({ Int64($0) }), let high = bounds?[1].flatMap({ Int64($0) }), high > low {
                return try chunks(of: table, segments: .evenSplit(column: key.name, low: low, high: high, count: count))
            }
        }
        let pages = bytes / Self.pageSize
        let step = (pages + Int64(count) - 1) / Int64(count)
        return (0..<count).map { i in
            let low = Int64(i) * step
            var predicate = "ctid >= '(\(low),0)'::tid"
            if i < count - 1 { predicate += " AND ctid < '(\(low + step),0)'::tid" }
            return ReadChunk(index: i, count: count, predicate: predicate)
        }
    }

    func chunks(of table: TableSchema, segments: RangeSegments) throws -> [ReadChunk] {
        segments.chunks(quote: PGConnection.quote, literal: PGConnection.literal)
    }

    func read(_ plan: TablePlan, chunk: ReadChunk, encoding: BatchEncoding, into pipe: BatchPipe) throws {
        let conn = try PGConnection(url)
        try conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        try conn.execute("SET TRANSACTION SNAPSHOT \(PGConnection.literal(snapshotID))")
        let columns = plan.columns.map { PGConnection.quote($0.source.name) }.joined(separator: ", ")
        let conditions = [chunk.predicate, plan.filterSQL(quote: PGConnection.quote, literal: PGConnection.literal)].compactMap { $0 }
        var sql: String
        if !conditions.isEmpty {
            sql = "COPY (SELECT \(columns) FROM \(PGConnection.quote(plan.source.id)) WHERE \(conditions.joined(separator: " AND "))) TO STDOUT"
        } else {
            sql = "COPY \(PGConnection.quote(plan.source.id)) (\(columns)) TO STDOUT"
        }
        switch encoding {
        case .native(.mysqlLoadDataText):
            let expressions = plan.columns.map { PostgresLoadDataText.expression($0.source) }.joined(separator: ", ")
            let select = "SELECT \(expressions) FROM \(PGConnection.quote(plan.source.id))"
                + (conditions.isEmpty ? "" : " WHERE " + conditions.joined(separator: " AND "))
            var buffer: [UInt8] = []
            buffer.reserveCapacity(Self.batchBytes + 4096)
            var rows = 0
            try conn.copyOut("COPY (\(select)) TO STDOUT") { row in
                PostgresLoadDataText.append(row, to: &buffer)
                rows += 1
                if buffer.count >= Self.batchBytes {
                    try pipe.send(.encoded(bytes: buffer, rowCount: rows))
                    buffer.removeAll(keepingCapacity: true)
                    rows = 0
                }
            }
            if !buffer.isEmpty { try pipe.send(.encoded(bytes: buffer, rowCount: rows)) }
        case let .native(format):
            // Each COPY data message is one row; in binary format one more message carries the trailer.
            let binary = format == PostgresTarget.copyBinary
            if binary { sql += " (FORMAT binary)" }
            var buffer: [UInt8] = []
            buffer.reserveCapacity(Self.batchBytes + 4096)
            var messages = 0
            try conn.copyOut(sql) { row in
                buffer.append(contentsOf: row)
                messages += 1
                if buffer.count >= Self.batchBytes {
                    try pipe.send(.encoded(bytes: buffer, rowCount: messages))
                    buffer.removeAll(keepingCapacity: true)
                    messages = 0
                }
            }
            if !buffer.isEmpty { try pipe.send(.encoded(bytes: buffer, rowCount: max(0, messages - (binary ? 1 : 0)))) }
        case .values:
            let types = plan.columns.map(\.source.type)
            var batch: [[Value]] = []
            var batchBytes = 0
            try conn.copyOut(sql) { row in
                let fields = CopyTextCodec.decodeRow(row)
                var values: [Value] = []
                values.reserveCapacity(types.count)
                for (i, type) in types.enumerated() {
                    values.append(PostgresValueCodec.decode(i < fields.count ? fields[i] : nil, as: type))
                }
                batch.append(values)
                batchBytes += row.count
                if batch.count >= Self.batchRows || batchBytes >= Self.batchBytes {
                    try pipe.send(.rows(batch))
                    batch.removeAll(keepingCapacity: true)
                    batchBytes = 0
                }
            }
            if !batch.isEmpty { try pipe.send(.rows(batch)) }
        }
        try conn.execute("COMMIT")
    }

    static let batchBytes = 1 << 20
    static let batchRows = 2000

    func close() {
        try? coordinator.execute("COMMIT")
    }

    private func regclass(_ id: TableID) -> String {
        PGConnection.literal(PGConnection.quote(id)) + "::regclass"
    }
}
