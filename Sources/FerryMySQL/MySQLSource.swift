import FerryCore

/// Reads MySQL/MariaDB tables with streaming `SELECT`s, each table inside one consistent-snapshot transaction.
public struct MySQLSource: SourceConnector {
    public let url: ConnectionURL
    public var engine: EngineKind { .mysql }
    public var nativeEncoding: NativeEncoding? { nil }

    public init(url: ConnectionURL) {
        self.url = url
    }

    public func discover(_ mappings: TableMappings) throws -> [TableSchema] {
        try MySQLCatalog.discover(MySQLConnection(url), database: url.database, mappings)
    }

    public func openSnapshot(workers: Int) throws -> any SnapshotSession {
        MySQLSnapshot(url: url)
    }
}

/// Per-table consistent reads: MySQL cannot share one snapshot between connections, so each table is
/// read whole by one connection in a `WITH CONSISTENT SNAPSHOT` transaction.
struct MySQLSnapshot: SnapshotSession {
    let url: ConnectionURL
    static let batchRows = 2000
    static let batchBytes = 1 << 20

    func estimatedRows(of table: TableSchema) throws -> Int64 {
        let conn = try MySQLConnection(url)
        let rows = try conn.query("""
            SELECT TABLE_ROWS FROM information_schema.TABLES
            WHERE TABLE_SCHEMA = \(MySQLConnection.literal(table.id.schema)) AND TABLE_NAME = \(MySQLConnection.literal(table.id.name))
            """)
        return rows.first?[0].flatMap { Int64($0) } ?? 0
    }

    func chunks(of table: TableSchema, estimatedRows: Int64, maxChunks: Int) throws -> [ReadChunk] {
        [.whole]
    }

    func read(_ plan: TablePlan, chunk: ReadChunk, encoding: BatchEncoding, into pipe: BatchPipe) throws {
        let conn = try MySQLConnection(url)
        try conn.execute("SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        try conn.execute("START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY")
        let columns = plan.columns.map { column in
            column.source.nativeType.hasPrefix("geometry:")
                ? "ST_AsText(\(MySQLConnection.quote(column.source.name)))"
                : MySQLConnection.quote(column.source.name)
        }
        var sql = "SELECT \(columns.joined(separator: ", ")) FROM \(MySQLConnection.quote(plan.source.id))"
        if let predicate = chunk.predicate { sql += " WHERE \(predicate)" }
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

    func close() {}
}
