import FerryCore

/// Writes tables into MySQL/MariaDB with `LOAD DATA LOCAL INFILE` from memory, or large multi-row
/// `INSERT`s (``MySQLTableWriter``), in strict SQL mode. A URL naming a
/// database that does not exist yet works: connections then have no default database (every statement
/// names its table's database), and the load creates the databases its tables need.
public struct MySQLTarget: TargetConnector {
    public func openApplier(controlSchema: String) throws -> any ChangeApplier {
        try MySQLApplier(url: url, controlSchema: statusTable(controlSchema: controlSchema).schema)
    }

    /// `ferry_apply_status` in the control schema (DMS's `awsdms_control` by default).
    func statusTable(controlSchema: String) -> TableID {
        let schema = normalize(TableID(schema: controlSchema.isEmpty ? MySQLApplier.defaultControlSchema : controlSchema, name: "")).schema
        return TableID(schema: schema, name: ApplyStatements.statusTable)
    }

    public let url: ConnectionURL
    public var engine: EngineKind { .mysql }
    /// Largest statement Ferry builds; a row larger than this is sent alone.
    static let statementBytes = 4 << 20
    /// Where tables go; a bad `target_db_type` is reported by ``check(_:)``.
    private let databases: Result<MySQLTargetDatabases, FerryError>

    public init(url: ConnectionURL) {
        self.url = url
        databases = Result { () throws(FerryError) in try MySQLTargetDatabases(url) }
    }

    /// A session in the URL's database, or in none while that database does not exist.
    private func connect() throws -> MySQLConnection {
        try MySQLConnection(url, databaseMayBeMissing: true)
    }

    public func normalize(_ table: TableID) -> TableID {
        (try? databases.get())?.place(table) ?? table
    }

    public func check(_ plan: TablePlan) throws {
        _ = try databases.get()
    }

    /// `LOAD DATA` text from a PostgreSQL source, for tables that load from it (no BIT column).
    public func accepts(_ encoding: NativeEncoding, for plan: TablePlan, mode: TargetTablePrepMode) -> Bool {
        encoding == .mysqlLoadDataText && MySQLLoadDataText.accepts(plan.columns.map(\.source.type))
    }

    public func prepare(_ plan: TablePlan, mode: TargetTablePrepMode, related: [TableID: TablePlan]) throws {
        let conn = try connect()
        let table = MySQLConnection.quote(plan.target)
        switch mode {
        case .dropAndCreate:
            // The URL's database too, though the tables may go elsewhere: later connections name it.
            for database in Set([plan.target.schema] + (url.database.map { [$0] } ?? [])) {
                try conn.execute("CREATE DATABASE IF NOT EXISTS \(MySQLConnection.quote(database)) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin")
            }
            try conn.execute("SET foreign_key_checks = 0")
            try conn.execute("DROP TABLE IF EXISTS \(table)")
            var definitions = try plan.columns.map { try columnDefinition($0, plan: plan, mariaDB: conn.isMariaDB) }
            let key = plan.targetPrimaryKey
            if !key.isEmpty, !plan.primaryKeyAfterLoad { definitions.append("PRIMARY KEY (\(key.map(MySQLConnection.quote).joined(separator: ", ")))") }
            try conn.execute("CREATE TABLE \(table) (\n  \(definitions.joined(separator: ",\n  "))\n) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin")
        case .truncateBeforeLoad:
            try requireColumns(plan, conn: conn)
            try conn.execute("SET foreign_key_checks = 0")
            try conn.execute("TRUNCATE TABLE \(table)")
        case .doNothing:
            try requireColumns(plan, conn: conn)
        }
    }

    public func columnDefinitions(_ plan: TablePlan) throws -> [String] {
        let mariaDB = try connect().isMariaDB
        return try plan.columns.map { try columnDefinition($0, plan: plan, mariaDB: mariaDB) }
    }

    func columnDefinition(_ column: ColumnPlan, plan: TablePlan, mariaDB: Bool) throws -> String {
        let source = column.source
        let keys = [plan.source.primaryKey] + plan.source.indexes.map(\.columns)
        let key = keys.filter { $0.contains(source.name) }.max { $0.count < $1.count }
        let type: String
        if plan.source.engine == .mysql, !source.nativeType.isEmpty, !source.nativeType.hasPrefix("geometry:") {
            type = source.nativeType
        } else {
            type = MySQLTypes.ddl(for: source.type, isKey: key != nil, keyColumns: key?.count ?? 1, mariaDB: mariaDB)
        }
        var definition = "\(MySQLConnection.quote(column.targetName)) \(type)"
        definition += source.nullable ? " NULL" : " NOT NULL"
        if let value = source.defaultValue, let literal = defaultLiteral(value, type: source.type, sqlType: type) {
            definition += " DEFAULT \(literal)"
        }
        if let generated = generatedDefaultSQL(column, in: plan) { definition += " " + generated }
        return definition
    }

    /// AUTO_INCREMENT for a counter that leads the primary key created with the table (InnoDB needs the
    /// key); the current time for date and time columns; expressions in parentheses, which MariaDB 10.2+
    /// and MySQL 8.0.13+ take as defaults.
    public func generatedDefaultSQL(_ column: ColumnPlan, in plan: TablePlan) -> String? {
        let type = column.writtenType
        switch column.source.generated {
        case nil: return nil
        case .counter:
            guard column.isIntegerCounter, plan.targetPrimaryKey.first == column.targetName, !plan.primaryKeyAfterLoad else { return nil }
            return "AUTO_INCREMENT"
        case .currentTimestamp:
            switch type {
            case let .timestamp(precision), let .timestampTZ(precision):
                return "DEFAULT CURRENT_TIMESTAMP" + (precision.map { $0 > 0 ? "(\($0))" : "" } ?? "")
            case .date: return "DEFAULT (CURRENT_DATE)"
            case .char, .varchar, .text: return "DEFAULT (CURRENT_TIMESTAMP)"
            default: return nil
            }
        case .currentDate: return type == .date ? "DEFAULT (CURRENT_DATE)" : nil
        case .randomUUID:
            switch type {
            case .uuid, .char, .varchar: return "DEFAULT (uuid())"
            default: return nil
            }
        case let .expression(text): return plan.source.engine == .mysql ? "DEFAULT (\(text))" : nil
        }
    }

    /// InnoDB moves a table's AUTO_INCREMENT past every value inserted, so only `next` is set.
    public func syncCounters(_ plan: TablePlan, next: [String: Int64]) throws {
        guard let column = plan.columns.first(where: { generatedDefaultSQL($0, in: plan) == "AUTO_INCREMENT" }),
              let value = next[column.targetName] else { return }
        try connect().execute("ALTER TABLE \(MySQLConnection.quote(plan.target)) AUTO_INCREMENT = \(value)")
    }

    private func defaultLiteral(_ value: Value, type: ColumnType, sqlType: String) -> String? {
        guard !sqlType.contains("text"), !sqlType.contains("blob"), sqlType != "json" else { return nil }
        var out: [UInt8] = []
        guard (try? MySQLLiteral.append(value, as: type, column: "", to: &out)) != nil else { return nil }
        return String(decoding: out, as: UTF8.self)
    }

    private func requireColumns(_ plan: TablePlan, conn: MySQLConnection) throws {
        let rows = try conn.query("""
            SELECT COLUMN_NAME FROM information_schema.COLUMNS
            WHERE TABLE_SCHEMA = \(MySQLConnection.literal(plan.target.schema)) AND TABLE_NAME = \(MySQLConnection.literal(plan.target.name))
            """)
        try plan.requireTargetColumns(Set(rows.compactMap { $0[0] }), location: "MySQL \(url.location)")
    }

    public func load(_ plan: TablePlan, encoding: BatchEncoding, from pipe: BatchPipe, commitRows: Int?, fence: LoadFence?,
                     progress: @Sendable (Int) -> Void) throws -> Int64 {
        let conn = try MySQLConnection(url, databaseMayBeMissing: true, localInfile: MySQLLoadDataText.accepts(plan.columns.map(\.source.type)))
        var writer = try MySQLTableWriter(conn, plan: plan, fence: fence, status: fence.map { statusTable(controlSchema: $0.controlSchema) })
        while let batch = try pipe.receive() {
            switch batch {
            case let .encoded(text, count):
                // LOAD DATA text from the source gathers into chunks of about statementBytes.
                guard encoding == .native(.mysqlLoadDataText) else {
                    throw FerryError(.database, "MySQL target received rows in an encoding it does not read")
                }
                try writer.add(loadDataText: text, rows: count)
                if writer.pendingBytes >= Self.statementBytes { try writer.flush() }
            case let .rows(rows):
                for row in rows {
                    try writer.add(row)
                    // Each chunk commits on its own (or in its fenced transaction).
                    if writer.pendingBytes >= Self.statementBytes || writer.pendingRows == commitRows { try writer.flush() }
                }
                try writer.flush()
            }
            progress(batch.rowCount)
        }
        try writer.flush()
        return writer.loaded
    }

    public func addPrimaryKey(_ plan: TablePlan) throws {
        guard plan.primaryKeyAfterLoad, !plan.targetPrimaryKey.isEmpty else { return }
        try connect().execute("ALTER TABLE \(MySQLConnection.quote(plan.target)) ADD PRIMARY KEY (\(plan.targetPrimaryKey.map(MySQLConnection.quote).joined(separator: ", ")))")
    }

    /// Creates the plan's secondary indexes, then the CHECK constraints of a MySQL/MariaDB source that
    /// the table does not have yet.
    public func createIndexes(_ plan: TablePlan) throws {
        let conn = try connect()
        for index in plan.source.indexes {
            let columns = index.columns.compactMap(plan.targetName(ofSource:))
            guard columns.count == index.columns.count else { continue }
            try conn.execute("""
                CREATE \(index.unique ? "UNIQUE " : "")INDEX \(MySQLConnection.quote(String(index.name.prefix(64))))
                ON \(MySQLConnection.quote(plan.target)) (\(columns.map(MySQLConnection.quote).joined(separator: ", ")))
                """)
        }
        let checks = plan.checks(carriedTo: engine)
        guard !checks.isEmpty else { return }
        let existing = Set(try conn.query("""
            SELECT CONSTRAINT_NAME FROM information_schema.TABLE_CONSTRAINTS WHERE CONSTRAINT_TYPE = 'CHECK'
            AND TABLE_SCHEMA = \(MySQLConnection.literal(plan.target.schema)) AND TABLE_NAME = \(MySQLConnection.literal(plan.target.name))
            """).compactMap { $0[0] })
        for check in checks where !existing.contains(check.name) {
            try conn.execute("ALTER TABLE \(MySQLConnection.quote(plan.target)) ADD CONSTRAINT \(MySQLConnection.quote(check.name)) CHECK \(check.condition)")
        }
    }

    public func createForeignKeys(_ plan: TablePlan, loaded: [TableID: TablePlan]) throws {
        let conn = try connect()
        for key in plan.source.foreignKeys {
            guard let referenced = loaded[key.referencedTable] else { continue }
            let columns = key.columns.compactMap(plan.targetName(ofSource:))
            let referencedColumns = key.referencedColumns.compactMap(referenced.targetName(ofSource:))
            guard columns.count == key.columns.count, referencedColumns.count == key.referencedColumns.count else { continue }
            try conn.execute("""
                ALTER TABLE \(MySQLConnection.quote(plan.target)) ADD CONSTRAINT \(MySQLConnection.quote(String(key.name.prefix(64))))
                FOREIGN KEY (\(columns.map(MySQLConnection.quote).joined(separator: ", ")))
                REFERENCES \(MySQLConnection.quote(referenced.target)) (\(referencedColumns.map(MySQLConnection.quote).joined(separator: ", ")))
                ON DELETE \(key.onDelete) ON UPDATE \(key.onUpdate)
                """)
        }
    }
}
