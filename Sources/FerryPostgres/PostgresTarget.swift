import FerryCore

/// Writes tables into PostgreSQL with `COPY … FROM STDIN`.
public struct PostgresTarget: TargetConnector {
    public func openApplier(controlSchema: String) throws -> any ChangeApplier {
        try PostgresApplier(url: url, controlSchema: controlSchema)
    }

    public func removeWriteFence(_ tables: [TableID]) throws {
        let conn = try PGConnection(url)
        for table in tables { try conn.execute(PostgresWriteFence.removeSQL(table)) }
    }

    /// PostgreSQL's COPY text format, passed through unchanged between two PostgreSQL servers.
    public static let copyText = NativeEncoding("postgres-copy-text")
    /// PostgreSQL's COPY binary format: cheaper for both servers, but only for identical column types.
    public static let copyBinary = NativeEncoding("postgres-copy-binary")

    public let url: ConnectionURL
    public var engine: EngineKind { .postgres }

    public init(url: ConnectionURL) {
        self.url = url
    }

    public func check(_ plan: TablePlan) throws {
        // Every neutral type has a PostgreSQL column type; values are checked as they are written.
    }

    /// COPY text from any PostgreSQL source; COPY binary only into tables Ferry creates with the
    /// source's own column types (drop-and-create).
    public func accepts(_ encoding: NativeEncoding, for plan: TablePlan, mode: TargetTablePrepMode) -> Bool {
        guard plan.source.engine == .postgres else { return false }
        return encoding == Self.copyText || (encoding == Self.copyBinary && mode == .dropAndCreate)
    }

    public func prepare(_ plan: TablePlan, mode: TargetTablePrepMode, related: [TableID: TablePlan]) throws {
        let conn = try PGConnection(url)
        let table = PGConnection.quote(plan.target)
        switch mode {
        case .dropAndCreate:
            try conn.execute("BEGIN")
            try conn.execute("CREATE SCHEMA IF NOT EXISTS \(PGConnection.quote(plan.target.schema))")
            try conn.execute("DROP TABLE IF EXISTS \(table) CASCADE")
            var definitions = try plan.columns.map { try columnDefinition($0, plan: plan, creatingTypesOn: conn) }
            if !plan.targetPrimaryKey.isEmpty, !plan.primaryKeyAfterLoad {
                definitions.append("PRIMARY KEY (\(plan.targetPrimaryKey.map(PGConnection.quote).joined(separator: ", ")))")
            }
            try conn.execute("CREATE TABLE \(table) (\n  \(definitions.joined(separator: ",\n  "))\n)")
            try conn.execute("COMMIT")
        case .truncateBeforeLoad:
            try requireColumns(plan, conn: conn)
            try conn.execute("TRUNCATE \(table)")
        case .doNothing:
            try requireColumns(plan, conn: conn)
        }
    }

    public func columnDefinitions(_ plan: TablePlan) throws -> [String] {
        plan.columns.map { columnDefinition($0, plan: plan) }
    }

    /// The enum type a column needs in the target schema (with its labels), if it is an enum.
    func enumType(of column: ColumnPlan, plan: TablePlan) -> (id: TableID, labels: [String])? {
        let source = column.source
        guard let labels = PostgresTypes.enumLabels(of: source.type) else { return nil }
        let name: String
        if plan.source.engine == .postgres {
            let bare = source.nativeType.hasSuffix("[]") ? String(source.nativeType.dropLast(2)) : source.nativeType
            name = String(bare.split(separator: ".").last ?? Substring(bare)).replacingOccurrences(of: "\"", with: "")
        } else {
            name = "\(plan.target.name)_\(column.targetName)"
        }
        return (TableID(schema: plan.target.schema, name: name), labels)
    }

    /// One column's definition, after creating the enum type it needs unless that exists.
    func columnDefinition(_ column: ColumnPlan, plan: TablePlan, creatingTypesOn conn: PGConnection) throws -> String {
        if let type = enumType(of: column, plan: plan) { try ensureEnum(type.id, labels: type.labels, conn: conn) }
        return columnDefinition(column, plan: plan)
    }

    /// One column's definition: name, type, NOT NULL and a literal default (its enum type must exist).
    func columnDefinition(_ column: ColumnPlan, plan: TablePlan) -> String {
        let source = column.source
        let enumType = enumType(of: column, plan: plan).map { PGConnection.quote($0.id) }
        // A PostgreSQL source keeps its exact column types (as binary passthrough requires); only enum
        // types are recreated, in the target schema. A column a rule retyped has no native type.
        let type = plan.source.engine == .postgres && enumType == nil && !source.nativeType.isEmpty
            ? source.nativeType : PostgresTypes.ddl(for: source.type, enumTypeName: enumType)
        var definition = "\(PGConnection.quote(column.targetName)) \(type)"
        if !source.nullable { definition += " NOT NULL" }
        if let value = source.defaultValue, let literal = defaultLiteral(value) { definition += " DEFAULT \(literal)" }
        if let generated = generatedDefaultSQL(column, in: plan) { definition += " " + generated }
        return definition
    }

    /// Counters become identity columns BY DEFAULT, which accept the ids the load and CDC write; an
    /// unsigned 64-bit counter is numeric(20,0) here, which cannot be an identity.
    public func generatedDefaultSQL(_ column: ColumnPlan, in plan: TablePlan) -> String? {
        switch column.source.generated {
        case nil: return nil
        case .counter:
            if case .integer(8, true) = column.writtenType { return nil }
            return column.isIntegerCounter ? "GENERATED BY DEFAULT AS IDENTITY" : nil
        case .currentTimestamp: return "DEFAULT CURRENT_TIMESTAMP"
        case .currentDate: return "DEFAULT CURRENT_DATE"
        case .randomUUID: return "DEFAULT gen_random_uuid()"
        case let .expression(text): return plan.source.engine == .postgres ? "DEFAULT \(text)" : nil
        }
    }

    public func syncSequence(_ sequence: SequenceDefinition, as id: TableID, from engine: EngineKind) throws -> Bool {
        guard engine == .postgres else { return false }
        let conn = try PGConnection(url)
        let name = PGConnection.quote(id)
        try conn.execute("CREATE SCHEMA IF NOT EXISTS \(PGConnection.quote(id.schema))")
        try conn.execute("""
            CREATE SEQUENCE IF NOT EXISTS \(name) AS \(sequence.dataType) INCREMENT BY \(sequence.increment) MINVALUE \(sequence.minimum)
              MAXVALUE \(sequence.maximum) START WITH \(sequence.start) \(sequence.cycles ? "CYCLE" : "NO CYCLE")
            """)
        // Only forward (in the sequence's own direction): the target may have handed out values already.
        let further = sequence.increment > 0 ? "GREATEST" : "LEAST"
        try conn.execute("""
            SELECT setval(\(PGConnection.literal(name)), \(further)(\(sequence.next), CASE WHEN is_called THEN last_value + \(sequence.increment) ELSE last_value END), false)
            FROM \(name)
            """)
        return true
    }

    /// Sets each counter's sequence so that its next value is past the table's highest and at least `next`.
    public func syncCounters(_ plan: TablePlan, next: [String: Int64]) throws {
        let counters = plan.columns.filter(\.isIntegerCounter)
        guard !counters.isEmpty else { return }
        let conn = try PGConnection(url)
        let table = PGConnection.quote(plan.target)
        for column in counters {
            let name = PGConnection.quote(column.targetName)
            let floor = next[column.targetName].map { "\($0 - 1)" } ?? "0"
            // setval(seq, n) makes n + 1 the next value; an empty table starts at 1.
            try conn.execute("""
                SELECT setval(s, GREATEST(v, 1), v > 0) FROM (SELECT pg_get_serial_sequence(\(PGConnection.literal(table)), \(PGConnection.literal(column.targetName))) AS s,
                  GREATEST(COALESCE(max(\(name)), 0), \(floor)) AS v FROM \(table)) m WHERE s IS NOT NULL AND v >= 0
                """)
        }
    }

    private func defaultLiteral(_ value: Value) -> String? {
        switch value {
        case .null, .array: return nil
        case let .bool(b): return b ? "true" : "false"
        case let .bytes(b): return PGConnection.literal("\\x" + Hex.encode(b))
        default: return value.textForm.map(PGConnection.literal)
        }
    }

    /// Creates the enum type unless it exists.
    private func ensureEnum(_ id: TableID, labels: [String], conn: PGConnection) throws {
        let exists = try conn.query("""
            SELECT 1 FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
            WHERE n.nspname = \(PGConnection.literal(id.schema)) AND t.typname = \(PGConnection.literal(id.name))
            """)
        if exists.isEmpty {
            try conn.execute("CREATE TYPE \(PGConnection.quote(id)) AS ENUM (\(labels.map(PGConnection.literal).joined(separator: ", ")))")
        }
    }

    private func requireColumns(_ plan: TablePlan, conn: PGConnection) throws {
        let rows = try conn.query("""
            SELECT a.attname FROM pg_attribute a
            WHERE a.attrelid = to_regclass(\(PGConnection.literal(PGConnection.quote(plan.target)))) AND a.attnum > 0 AND NOT a.attisdropped
            """)
        try plan.requireTargetColumns(Set(rows.compactMap { $0[0] }), location: "PostgreSQL \(url.location)")
    }

    public func load(_ plan: TablePlan, encoding: BatchEncoding, from pipe: BatchPipe, commitRows: Int?, fence: LoadFence?,
                     progress: @Sendable (Int) -> Void) throws -> Int64 {
        let conn = try PGConnection(url)
        let fenceCheck = fence.map { fence in
            fence.claims.map {
                PostgresApplier.fenceCheck(status: PostgresApplier.statusTable(controlSchema: fence.controlSchema), task: $0.row, epoch: $0.epoch, lock: "FOR SHARE")
            }.joined()
        }
        let columns = plan.columns.map { PGConnection.quote($0.targetName) }.joined(separator: ", ")
        let types = plan.columns.map(\.source.type)
        let names = plan.columns.map { "\(plan.target).\($0.targetName)" }
        let format = encoding == .native(Self.copyBinary) ? " (FORMAT binary)" : ""
        let sql = "COPY \(PGConnection.quote(plan.target)) (\(columns)) FROM STDIN\(format)"
        /// Sends decoded rows as COPY text, in pieces of about 1 MB.
        func send(_ rows: ArraySlice<[Value]>, _ send: (UnsafeRawBufferPointer) throws -> Void) throws {
            var buffer: [UInt8] = []
            buffer.reserveCapacity(1 << 20)
            for row in rows {
                for (i, value) in row.enumerated() {
                    if i > 0 { buffer.append(0x09) }
                    try PostgresValueCodec.encode(value, as: types[i], column: names[i], into: &buffer)
                }
                buffer.append(0x0a)
                if buffer.count >= 1 << 20 {
                    try buffer.withUnsafeBytes(send)
                    buffer.removeAll(keepingCapacity: true)
                }
            }
            if !buffer.isEmpty { try buffer.withUnsafeBytes(send) }
        }
        // One COPY (one transaction) per `commitRows` rows, or for the whole chunk. Encoded batches come
        // only without `commitRows`: they are sent whole.
        let limit = commitRows ?? .max
        var loaded: Int64 = 0
        var rest: ArraySlice<[Value]> = []
        var ended = false
        while !ended {
            // Fenced, each COPY is a transaction that first checks the claim under a shared lock.
            if let fenceCheck { try conn.execute("BEGIN;\n" + fenceCheck) }
            loaded += try conn.copyIn(sql) { sender in
                var copied = 0
                while copied < limit {
                    if rest.isEmpty {
                        guard let batch = try pipe.receive() else {
                            ended = true
                            return
                        }
                        switch batch {
                        case let .encoded(bytes, count):
                            try bytes.withUnsafeBytes(sender)
                            copied += count
                            progress(count)
                            continue
                        case let .rows(rows):
                            rest = rows[...]
                        }
                    }
                    let part = rest.prefix(limit - copied)
                    try send(part, sender)
                    rest = rest.dropFirst(part.count)
                    copied += part.count
                    progress(part.count)
                }
            }
            if fenceCheck != nil { try conn.execute("COMMIT") }
        }
        return loaded
    }

    /// Creates the plan's secondary indexes, then the CHECK constraints of a PostgreSQL source that the
    /// table does not have yet.
    public func createIndexes(_ plan: TablePlan) throws {
        let conn = try PGConnection(url)
        let table = PGConnection.quote(plan.target)
        for index in plan.source.indexes {
            let columns = index.columns.compactMap(plan.targetName(ofSource:))
            guard columns.count == index.columns.count else { continue }
            let name = PGConnection.quote(indexName(index.name, plan: plan))
            try conn.execute("CREATE \(index.unique ? "UNIQUE " : "")INDEX IF NOT EXISTS \(name) ON \(table) (\(columns.map(PGConnection.quote).joined(separator: ", ")))")
        }
        let checks = plan.checks(carriedTo: engine)
        guard !checks.isEmpty else { return }
        let existing = Set(try conn.query("SELECT conname FROM pg_constraint WHERE conrelid = to_regclass(\(PGConnection.literal(table))) AND contype = 'c'")
            .compactMap { $0[0] })
        for check in checks where !existing.contains(check.name) {
            try conn.execute("ALTER TABLE \(table) ADD CONSTRAINT \(PGConnection.quote(check.name)) CHECK \(check.condition)")
        }
    }

    public func addPrimaryKey(_ plan: TablePlan) throws {
        guard plan.primaryKeyAfterLoad, !plan.targetPrimaryKey.isEmpty else { return }
        try PGConnection(url).execute("ALTER TABLE \(PGConnection.quote(plan.target)) ADD PRIMARY KEY (\(plan.targetPrimaryKey.map(PGConnection.quote).joined(separator: ", ")))")
    }

    /// Index names are unique per schema in PostgreSQL; names from MySQL or SQLite are only unique per table.
    private func indexName(_ name: String, plan: TablePlan) -> String {
        let full = plan.source.engine == .postgres ? name : "\(plan.target.name)_\(name)"
        return String(full.prefix(63))
    }

    public func createForeignKeys(_ plan: TablePlan, loaded: [TableID: TablePlan]) throws {
        let conn = try PGConnection(url)
        for key in plan.source.foreignKeys {
            guard let referenced = loaded[key.referencedTable] else { continue }
            let columns = key.columns.compactMap(plan.targetName(ofSource:))
            let referencedColumns = key.referencedColumns.compactMap(referenced.targetName(ofSource:))
            guard columns.count == key.columns.count, referencedColumns.count == key.referencedColumns.count else { continue }
            let name = String(key.name.prefix(63))
            try conn.execute("""
                ALTER TABLE \(PGConnection.quote(plan.target)) ADD CONSTRAINT \(PGConnection.quote(name))
                FOREIGN KEY (\(columns.map(PGConnection.quote).joined(separator: ", ")))
                REFERENCES \(PGConnection.quote(referenced.target)) (\(referencedColumns.map(PGConnection.quote).joined(separator: ", ")))
                ON DELETE \(key.onDelete) ON UPDATE \(key.onUpdate)
                """)
        }
    }
}
