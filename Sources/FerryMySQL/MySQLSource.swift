import FerryCore
import Foundation

/// Reads MySQL/MariaDB tables with streaming `SELECT`s inside consistent-snapshot transactions.
public struct MySQLSource: SourceConnector {
    public let url: ConnectionURL
    public var engine: EngineKind { .mysql }
    public func nativeEncodings(for plan: TablePlan) -> [NativeEncoding] { [] }

    public init(url: ConnectionURL) {
        self.url = url
    }

    public func discover(_ mappings: TableMappings) throws -> [TableSchema] {
        try MySQLSchemaDiscovery.discover(MySQLConnection(url), database: url.database, mappings)
    }

    public func openChecksumSession() throws -> any ChecksumSession {
        try MySQLChecksumSession(url: url)
    }

    public func schemaNames() throws -> [String] {
        try MySQLConnection(url).query("""
            SELECT SCHEMA_NAME FROM information_schema.SCHEMATA
            WHERE SCHEMA_NAME NOT IN ('mysql', 'information_schema', 'performance_schema', 'sys') ORDER BY SCHEMA_NAME
            """).compactMap { $0[0] }
    }

    /// The table's AUTO_INCREMENT, and at least one past its highest value (MySQL 8 may show a cached figure).
    public func counterNextValues(_ table: TableSchema) throws -> [String: Int64] {
        guard let column = table.columns.first(where: { $0.generated?.counter != nil }) else { return [:] }
        let conn = try MySQLConnection(url)
        let counter = try conn.query("""
            SELECT AUTO_INCREMENT FROM information_schema.TABLES
            WHERE TABLE_SCHEMA = \(MySQLConnection.literal(table.id.schema)) AND TABLE_NAME = \(MySQLConnection.literal(table.id.name))
            """).first?[0].flatMap { Int64($0) } ?? 1
        let highest = try conn.query("SELECT COALESCE(max(\(MySQLConnection.quote(column.name))), 0) FROM \(MySQLConnection.quote(table.id))")
            .first?[0].flatMap { Int64($0) } ?? 0
        return [column.name: max(counter, highest + 1)]
    }

    /// Views, routines and events of the selected tables' databases, and triggers on the selected tables.
    public func uncopiedObjects(of tables: [TableSchema]) throws -> [String] {
        guard !tables.isEmpty else { return [] }
        let schemas = Set(tables.map(\.id.schema)).sorted().map(MySQLConnection.literal).joined(separator: ", ")
        let names = Set(tables.map { "\($0.id.schema).\($0.id.name)" })
        let conn = try MySQLConnection(url)
        var objects = try conn.query("""
            SELECT 'view', CONCAT(TABLE_SCHEMA, '.', TABLE_NAME) FROM information_schema.VIEWS WHERE TABLE_SCHEMA IN (\(schemas))
            UNION ALL SELECT LOWER(ROUTINE_TYPE), CONCAT(ROUTINE_SCHEMA, '.', ROUTINE_NAME) FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA IN (\(schemas))
            UNION ALL SELECT 'event', CONCAT(EVENT_SCHEMA, '.', EVENT_NAME) FROM information_schema.EVENTS WHERE EVENT_SCHEMA IN (\(schemas))
            """).map { "\($0[0] ?? "") \($0[1] ?? "")" }
        for row in try conn.query("""
            SELECT TRIGGER_NAME, CONCAT(EVENT_OBJECT_SCHEMA, '.', EVENT_OBJECT_TABLE) FROM information_schema.TRIGGERS
            WHERE EVENT_OBJECT_SCHEMA IN (\(schemas))
            """) where names.contains(row[1] ?? "") {
            objects.append("trigger \(row[0] ?? "") on \(row[1] ?? "")")
        }
        return objects.sorted()
    }

    public func openCapture(task: String, schemas: [TableSchema]) throws -> any ChangeCapture {
        MySQLCapture(url: url, task: task, schemas: schemas)
    }

    public func openSnapshot(workers: Int) throws -> any SnapshotSession {
        MySQLSnapshot(url: url)
    }
}

/// Consistent reads of MySQL tables. MySQL cannot share one snapshot between connections, so a table is
/// read in one snapshot: by one connection, or — for a large table with a single integer primary key —
/// by one connection per key range, whose snapshots are all opened while `LOCK TABLES … READ` holds
/// writers off for a moment (so every range sees the same table).
final class MySQLSnapshot: SnapshotSession, @unchecked Sendable {
    let url: ConnectionURL
    static let batchRows = 2000
    static let batchBytes = 1 << 20
    private let lock = NSLock()
    /// Connections with an open snapshot, waiting for their chunk, keyed by table and chunk index.
    private var prepared: [String: MySQLConnection] = [:]

    init(url: ConnectionURL) {
        self.url = url
    }

    func estimatedRows(of table: TableSchema) throws -> Int64 {
        try sizes(of: table, conn: MySQLConnection(url)).rows
    }

    private func sizes(of table: TableSchema, conn: MySQLConnection) throws -> (rows: Int64, bytes: Int64) {
        let row = try conn.query("""
            SELECT TABLE_ROWS, DATA_LENGTH FROM information_schema.TABLES
            WHERE TABLE_SCHEMA = \(MySQLConnection.literal(table.id.schema)) AND TABLE_NAME = \(MySQLConnection.literal(table.id.name))
            """).first
        return (row?[0].flatMap { Int64($0) } ?? 0, row?[1].flatMap { Int64($0) } ?? 0)
    }

    /// Ranges of the table's integer key, of about `chunkBytes` each, so that a load that stopped can resume by range.
    func chunks(of table: TableSchema, estimatedRows: Int64, maxChunks: Int, chunkBytes: Int64) throws -> [ReadChunk] {
        guard table.primaryKey.count == 1, let key = table.column(named: table.primaryKey[0]),
              case .integer = key.type, maxChunks > 1 else { return [.whole] }
        let coordinator = try MySQLConnection(url)
        let count = Int(min(Int64(maxChunks), (try sizes(of: table, conn: coordinator).bytes + chunkBytes - 1) / chunkBytes))
        guard count > 1 else { return [.whole] }
        let column = MySQLConnection.quote(key.name)
        let bounds = try coordinator.query("SELECT MIN(\(column)), MAX(\(column)) FROM \(MySQLConnection.quote(table.id))").first
        guard let low = bounds?[0].flatMap({ Int64($0) }), let high = bounds?[1].flatMap({ Int64($0) }), high > low else {
            return [.whole]
        }
        return try chunks(of: table, segments: .evenSplit(column: key.name, low: low, high: high, count: count), coordinator: coordinator)
    }

    func chunks(of table: TableSchema, segments: RangeSegments) throws -> [ReadChunk] {
        try chunks(of: table, segments: segments, coordinator: MySQLConnection(url))
    }

    private func chunks(of table: TableSchema, segments: RangeSegments, coordinator: MySQLConnection) throws -> [ReadChunk] {
        let predicates = segments.predicates(quote: MySQLConnection.quote, literal: MySQLConnection.literal)
        return try prepareReaders(table, predicates.map { ReadChunk(index: 0, count: 0, predicate: $0, segments: segments) }, coordinator: coordinator)
    }

    func chunks(of table: TableSchema, partitions: [String], field: String) throws -> [ReadChunk] {
        let coordinator = try MySQLConnection(url)
        let existing = try coordinator.query("""
            SELECT PARTITION_NAME FROM information_schema.PARTITIONS
            WHERE TABLE_SCHEMA = \(MySQLConnection.literal(table.id.schema)) AND TABLE_NAME = \(MySQLConnection.literal(table.id.name))
              AND PARTITION_NAME IS NOT NULL ORDER BY PARTITION_ORDINAL_POSITION
            """).compactMap { $0[0] }
        for name in partitions where !existing.contains(name) {
            throw FerryError.invalidParameter(field, existing.isEmpty ? "\(table.id) is not partitioned"
                : "\(table.id) has no partition '\(name)' (it has \(existing.joined(separator: ", ")))")
        }
        // The partitions not named are read too, together, so that no row is left behind.
        let others = existing.filter { !partitions.contains($0) }
        let groups = partitions.map { [$0] } + (others.isEmpty ? [] : [others])
        return try prepareReaders(table, groups.map { ReadChunk(index: 0, count: 0, predicate: nil, partitions: $0) }, coordinator: coordinator)
    }

    /// One chunk per predicate, each with a reader whose snapshot was opened while `LOCK TABLES … READ` held
    /// writers off, so that all of them see the same table. Rows that move between ranges while the load
    /// runs are therefore read exactly once. Without the LOCK TABLES privilege, one reader reads it all.
    private func prepareReaders(_ table: TableSchema, _ parts: [ReadChunk], coordinator: MySQLConnection) throws -> [ReadChunk] {
        let name = MySQLConnection.quote(table.id)
        let readers = try parts.map { _ in try MySQLConnection(url) }
        do {
            try coordinator.execute("LOCK TABLES \(name) READ")
        } catch {
            return [.whole]
        }
        defer { try? coordinator.execute("UNLOCK TABLES") }
        for reader in readers {
            try reader.execute("SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            try reader.execute("START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY")
        }
        return parts.enumerated().map { i, part in
            lock.withLock { prepared["\(table.id)#\(i)"] = readers[i] }
            return ReadChunk(index: i, count: parts.count, predicate: part.predicate, partitions: part.partitions, segments: part.segments)
        }
    }

    func read(_ plan: TablePlan, chunk: ReadChunk, encoding: BatchEncoding, into pipe: BatchPipe) throws {
        let conn: MySQLConnection
        if let ready = lock.withLock({ prepared.removeValue(forKey: "\(plan.source.id)#\(chunk.index)") }) {
            conn = ready
        } else {
            conn = try MySQLConnection(url)
            try conn.execute("SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            try conn.execute("START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY")
        }
        let columns = plan.columns.map { column in
            column.source.nativeType.hasPrefix("geometry:")
                ? "ST_AsText(\(MySQLConnection.quote(column.source.name)))"
                : MySQLConnection.quote(column.source.name)
        }
        var sql = "SELECT \(columns.joined(separator: ", ")) FROM \(MySQLConnection.quote(plan.source.id))"
        if !chunk.partitions.isEmpty { sql += " PARTITION (\(chunk.partitions.map(MySQLConnection.quote).joined(separator: ", ")))" }
        let conditions = [chunk.predicate, plan.filterSQL(quote: MySQLConnection.quote, literal: MySQLConnection.literal)]
            .compactMap { $0 }.filter { !$0.isEmpty }
        if !conditions.isEmpty { sql += " WHERE " + conditions.joined(separator: " AND ") }
        let types = plan.columns.map(\.source.type)
        var batch: [[Value]] = []
        var bytes = 0
        try conn.stream(sql) { fields in
            var row: [Value] = []
            row.reserveCapacity(types.count)
            for (i, type) in types.enumerated() {
                row.append(MySQLValueCodec.decode(fields[i], as: type))
                bytes += fields[i]?.count ?? 0
            }
            batch.append(row)
            if batch.count >= Self.batchRows || bytes >= Self.batchBytes {
                try pipe.send(.rows(batch))
                batch.removeAll(keepingCapacity: true)
                bytes = 0
            }
        }
        if !batch.isEmpty { try pipe.send(.rows(batch)) }
        try conn.execute("COMMIT")
    }

    func close() {
        lock.withLock { prepared.removeAll() }
    }
}
