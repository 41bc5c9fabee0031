import FerryCore

/// Writes one table's rows for a full load, a statement per chunk: `LOAD DATA LOCAL INFILE` served from
/// memory (``LocalInfileData``) where the server allows it and the columns load from text
/// (``MySQLLoadDataText``), a multi-row INSERT otherwise. Fenced (``LoadFence``), each statement is a
/// transaction that first reads the claims under a shared lock.
struct MySQLTableWriter {
    private let conn: MySQLConnection
    private let table: String
    private let types: [ColumnType]
    private let names: [String]
    private let fence: LoadFence?
    private let status: TableID?
    /// Whether chunks go as `LOAD DATA LOCAL INFILE`.
    let loadsData: Bool
    private let insertHeader: [UInt8]
    private let loadStatement: String
    /// The chunk as LOAD DATA text, or as an INSERT statement.
    private var chunk: [UInt8] = []
    /// The chunk's rows, kept while it goes as LOAD DATA: a chunk the server warns about is inserted again.
    /// Empty for rows that came as LOAD DATA text: those are read back from the chunk.
    private var rows: [[Value]] = []
    private(set) var pendingRows = 0
    private(set) var loaded: Int64 = 0

    var pendingBytes: Int { chunk.count }

    /// `conn` was opened with `localInfile` when ``MySQLLoadDataText/accepts(_:)`` the plan's types.
    init(_ conn: MySQLConnection, plan: TablePlan, fence: LoadFence?, status: TableID?) throws {
        self.conn = conn
        self.fence = fence
        self.status = status
        table = MySQLConnection.quote(plan.target)
        types = plan.columns.map(\.source.type)
        names = plan.columns.map { "\(plan.target).\($0.targetName)" }
        let columns = plan.columns.map { MySQLConnection.quote($0.targetName) }.joined(separator: ", ")
        insertHeader = Array("INSERT INTO \(table) (\(columns)) VALUES ".utf8)
        // CHARACTER SET binary: the text is taken as it is (Ferry writes UTF-8), binary columns' bytes too.
        loadStatement = "LOAD DATA LOCAL INFILE 'ferry-rows' INTO TABLE \(table) CHARACTER SET binary (\(columns))"
        loadsData = try MySQLLoadDataText.accepts(types) && conn.acceptsLocalInfile()
        try conn.execute("SET foreign_key_checks = 0")
        chunk.reserveCapacity(MySQLTarget.statementBytes + (1 << 16))
    }

    mutating func add(_ row: [Value]) throws {
        if loadsData {
            for (i, value) in row.enumerated() {
                if i > 0 { chunk.append(0x09) }
                try MySQLLoadDataText.append(value, as: types[i], column: names[i], to: &chunk)
            }
            chunk.append(0x0a)
            rows.append(row)
        } else {
            try Self.appendInsert(row, header: insertHeader, types: types, names: names, to: &chunk)
        }
        pendingRows += 1
    }

    /// Adds rows that came as `LOAD DATA` text (``NativeEncoding/mysqlLoadDataText``).
    mutating func add(loadDataText text: [UInt8], rows count: Int) throws {
        if loadsData {
            chunk.append(contentsOf: text)
        } else {
            for row in MySQLLoadDataText.rows(of: text) { try Self.appendInsert(row, header: insertHeader, types: types, names: names, to: &chunk) }
        }
        pendingRows += count
    }

    /// Sends the chunk.
    mutating func flush() throws {
        guard pendingRows > 0 else { return }
        if loadsData {
            try begin()
            let warnings: UInt32
            do {
                warnings = try conn.loadLocal(loadStatement, data: chunk)
            } catch {
                try? conn.execute("ROLLBACK")
                throw error
            }
            if warnings == 0 {
                try conn.execute("COMMIT")
            } else {
                // LOCAL makes the server skip, with a warning, a row an INSERT would fail on: the chunk goes
                // again as INSERTs, whose error names the row (DataErrorPolicy then applies).
                try conn.execute("ROLLBACK")
                let again = rows.isEmpty ? MySQLLoadDataText.rows(of: chunk) : rows
                var statement: [UInt8] = []
                for (n, row) in again.enumerated() {
                    try Self.appendInsert(row, header: insertHeader, types: types, names: names, to: &statement)
                    if statement.count >= MySQLTarget.statementBytes || n == again.count - 1 {
                        try insert(statement)
                        statement = []
                    }
                }
            }
        } else {
            try insert(chunk)
        }
        loaded += Int64(pendingRows)
        chunk.removeAll(keepingCapacity: true)
        rows.removeAll(keepingCapacity: true)
        pendingRows = 0
    }

    /// Appends `row` to an INSERT statement, starting it with `header` when empty. Static, so that appending
    /// to the writer's own chunk does not copy it (a method of the writer would read all of it meanwhile).
    private static func appendInsert(_ row: [Value], header: [UInt8], types: [ColumnType], names: [String], to statement: inout [UInt8]) throws {
        statement.append(contentsOf: statement.isEmpty ? header : [UInt8(ascii: ",")])
        statement.append(UInt8(ascii: "("))
        for (i, value) in row.enumerated() {
            if i > 0 { statement.append(UInt8(ascii: ",")) }
            try MySQLLiteral.append(value, as: types[i], column: names[i], to: &statement)
        }
        statement.append(UInt8(ascii: ")"))
    }

    /// Runs one INSERT: on its own, or fenced in a transaction of its own.
    private func insert(_ statement: [UInt8]) throws {
        guard fence != nil else {
            try conn.execute(bytes: statement)
            return
        }
        try begin()
        do {
            try conn.execute(bytes: statement)
            try conn.execute("COMMIT")
        } catch {
            try? conn.execute("ROLLBACK")
            throw error
        }
    }

    /// Starts a transaction and, fenced, checks the claims under a shared lock.
    private func begin() throws {
        try conn.execute("START TRANSACTION")
        guard let fence, let status else { return }
        for claim in fence.claims {
            let epoch = try conn.query("SELECT epoch FROM \(MySQLConnection.quote(status)) WHERE task_name = \(MySQLConnection.literal(claim.row)) LOCK IN SHARE MODE")
                .first?.first ?? nil
            guard epoch.flatMap({ Int64($0) }) == claim.epoch else {
                try? conn.execute("ROLLBACK")
                throw FerryError.fenced(task: claim.row, epoch: claim.epoch)
            }
        }
    }
}
