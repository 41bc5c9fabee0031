import FerryCore
import Foundation
import GRDB
import GRDBSQLite

/// Writes tables into a SQLite file (created if missing). SQLite has one schema: tables keep their
/// names and the source schema is dropped. Foreign keys are declared when the table is created,
/// because SQLite cannot add them later; SQLite enforces them only where `PRAGMA foreign_keys` is on.
public struct SQLiteTarget: TargetConnector {
    public func openApplier(controlSchema: String) throws -> any ChangeApplier {
        try SQLiteApplier(target: self)
    }

    public func removeWriteFence(_ tables: [TableID]) throws {
        try SQLiteErrors.wrap(url) {
            try open().write { db in
                for table in tables { try db.execute(sql: SQLiteWriteFence.removeSQL(table.name)) }
            }
        }
    }

    public let url: ConnectionURL
    public var engine: EngineKind { .sqlite }
    static let batchRows = 5000

    public init(url: ConnectionURL) {
        self.url = url
    }

    /// How long a write waits for another connection's, at most, in seconds. Opening the file waits as long
    /// for it to be in WAL mode, since a copy from an attached file may hold it in rollback mode meanwhile.
    static let lockWait = 300

    /// Waits for the file's write lock by trying again every millisecond. SQLite's own wait backs off to
    /// 100 ms between tries, and a writer that commits and begins again at once (a load) then keeps the lock
    /// from everyone else until it ends: a later run's claim must get in between two of its transactions.
    static let eagerBusyWait: Database.BusyCallback = { tries in
        usleep(1000)
        return tries < lockWait * 1000
    }

    /// Opens the file. `keepingTransactionsOpen` lets a transaction outlast one access to the queue (the
    /// change applier's, across the parts of a large source transaction).
    func open(keepingTransactionsOpen: Bool = false) throws -> DatabaseQueue {
        var configuration = Configuration()
        configuration.allowsUnsafeTransactions = keepingTransactionsOpen
        configuration.busyMode = .callback(Self.eagerBusyWait)
        configuration.foreignKeysEnabled = false
        let path = url.database ?? ""
        do {
            let queue = try DatabaseQueue(path: path, configuration: configuration)
            // As long as a write would wait: a copy may hold the file in rollback mode meanwhile.
            try queue.writeWithoutTransaction { db in try SQLiteJournalMode.enterWAL(db, wait: Double(Self.lockWait)) }
            return queue
        } catch {
            throw FerryError(.connectionFailed, "SQLite \(path): \(error)")
        }
    }

    public func normalize(_ table: TableID) -> TableID {
        TableID(schema: "main", name: table.name)
    }

    public func check(_ plan: TablePlan) throws {}

    /// A SQLite source's rows, copied by attaching its file (``SQLiteAttachedCopy``).
    public func accepts(_ encoding: NativeEncoding, for plan: TablePlan, mode: TargetTablePrepMode) -> Bool {
        encoding == SQLiteAttachedCopy.encoding && plan.source.engine == .sqlite
    }

    public func prepare(_ plan: TablePlan, mode: TargetTablePrepMode, related: [TableID: TablePlan]) throws {
        let queue = try open()
        let table = SQLiteNames.quote(plan.target.name)
        try SQLiteErrors.wrap(url) {
            try queue.write { db in
                switch mode {
                case .dropAndCreate:
                    try db.execute(sql: "DROP TABLE IF EXISTS \(table)")
                    try db.execute(sql: createStatement(plan, related: related))
                case .truncateBeforeLoad:
                    try requireColumns(plan, db: db)
                    try db.execute(sql: "DELETE FROM \(table)")
                case .doNothing:
                    try requireColumns(plan, db: db)
                }
            }
        }
    }

    public func columnDefinitions(_ plan: TablePlan) throws -> [String] {
        plan.columns.map { columnDefinition($0, plan: plan) }
    }

    /// One column's definition: name, type, NOT NULL, a literal or generated default. A counter that is
    /// the whole primary key becomes the rowid (`INTEGER PRIMARY KEY`, AUTOINCREMENT unless the source
    /// reused values).
    func columnDefinition(_ column: ColumnPlan, plan: TablePlan) -> String {
        let source = column.source
        let name = SQLiteNames.quote(column.targetName)
        let generated = generatedDefaultSQL(column, in: plan)
        if let generated, isRowid(column, plan) { return "\(name) INTEGER NOT NULL \(generated)" }
        let type = plan.source.engine == .sqlite && !source.nativeType.isEmpty ? source.nativeType : SQLiteTypes.ddl(for: source.type)
        var definition = "\(name) \(type)"
        if !source.nullable { definition += " NOT NULL" }
        if let value = source.defaultValue, let text = value.textForm, !value.isNull {
            definition += " DEFAULT " + (Double(text) != nil ? text : "'\(text.replacingOccurrences(of: "'", with: "''"))'")
        }
        if let generated { definition += " " + generated }
        return definition
    }

    /// Whether the column is a counter that is the table's whole primary key: SQLite's rowid. An unsigned
    /// 64-bit counter stays DECIMAL_TEXT: its values may not fit the rowid.
    private func isRowid(_ column: ColumnPlan, _ plan: TablePlan) -> Bool {
        if case .integer(8, true) = column.writtenType { return false }
        return column.isIntegerCounter && plan.targetPrimaryKey == [column.targetName]
    }

    /// A random version-4 UUID in SQLite's own functions (SQLite has no UUID function).
    static let randomUUID = """
        (lower(hex(randomblob(4))) || '-' || lower(hex(randomblob(2))) || '-4' || substr(lower(hex(randomblob(2))), 2) || '-' || \
        substr('89ab', 1 + abs(random()) % 4, 1) || substr(lower(hex(randomblob(2))), 2) || '-' || lower(hex(randomblob(6))))
        """

    public func generatedDefaultSQL(_ column: ColumnPlan, in plan: TablePlan) -> String? {
        switch column.source.generated {
        case nil: return nil
        case let .counter(counter):
            guard isRowid(column, plan) else { return nil }
            return counter.reusesValues ? "PRIMARY KEY" : "PRIMARY KEY AUTOINCREMENT"
        case .currentTimestamp: return "DEFAULT CURRENT_TIMESTAMP"
        case .currentDate: return "DEFAULT CURRENT_DATE"
        case .randomUUID: return "DEFAULT \(Self.randomUUID)"
        case let .expression(text):
            guard plan.source.engine == .sqlite else { return nil }
            return text.hasPrefix("(") ? "DEFAULT \(text)" : "DEFAULT (\(text))"
        }
    }

    /// An AUTOINCREMENT table's `sqlite_sequence` is raised to `next - 1`; SQLite moves it past every id
    /// inserted by itself, and a plain rowid always continues after the highest.
    public func syncCounters(_ plan: TablePlan, next: [String: Int64]) throws {
        guard let column = plan.columns.first(where: { isRowid($0, plan) }), let value = next[column.targetName], value > 1 else { return }
        try SQLiteErrors.wrap(url) {
            try open().write { db in
                guard try Bool.fetchOne(db, sql: "SELECT 1 FROM sqlite_master WHERE name = 'sqlite_sequence'") == true else { return }
                try db.execute(sql: "UPDATE sqlite_sequence SET seq = max(seq, ?) WHERE name = ?", arguments: [value - 1, plan.target.name])
                if db.changesCount == 0 {
                    try db.execute(sql: "INSERT INTO sqlite_sequence (name, seq) VALUES (?, ?)", arguments: [plan.target.name, value - 1])
                }
            }
        }
    }

    func createStatement(_ plan: TablePlan, related: [TableID: TablePlan]) -> String {
        var definitions = plan.columns.map { columnDefinition($0, plan: plan) }
        let key = plan.targetPrimaryKey
        if !key.isEmpty, !plan.columns.contains(where: { isRowid($0, plan) }) { definitions.append("PRIMARY KEY (\(key.map(SQLiteNames.quote).joined(separator: ", ")))") }
        for foreignKey in plan.source.foreignKeys {
            guard let referenced = related[foreignKey.referencedTable] else { continue }
            let columns = foreignKey.columns.compactMap(plan.targetName(ofSource:))
            let referencedColumns = foreignKey.referencedColumns.compactMap(referenced.targetName(ofSource:))
            guard columns.count == foreignKey.columns.count, referencedColumns.count == foreignKey.referencedColumns.count else { continue }
            definitions.append("""
                FOREIGN KEY (\(columns.map(SQLiteNames.quote).joined(separator: ", "))) REFERENCES \
                \(SQLiteNames.quote(referenced.target.name)) (\(referencedColumns.map(SQLiteNames.quote).joined(separator: ", "))) \
                ON DELETE \(foreignKey.onDelete) ON UPDATE \(foreignKey.onUpdate)
                """)
        }
        return "CREATE TABLE \(SQLiteNames.quote(plan.target.name)) (\n  \(definitions.joined(separator: ",\n  "))\n)"
    }

    private func requireColumns(_ plan: TablePlan, db: Database) throws {
        let existing = Set(try Row.fetchAll(db, sql: "PRAGMA table_info(\(SQLiteNames.quote(plan.target.name)))").map { $0["name"] as String })
        try plan.requireTargetColumns(existing, location: "SQLite \(url.database ?? "")")
    }

    public func load(_ plan: TablePlan, encoding: BatchEncoding, from pipe: BatchPipe, commitRows: Int?, fence: LoadFence?,
                     progress: @Sendable (Int) -> Void) throws -> Int64 {
        // Opened at the first batch of rows: a copy from an attached file uses a connection of its own instead.
        var rowsQueue: DatabaseQueue?
        let columns = plan.columns.map { SQLiteNames.quote($0.targetName) }.joined(separator: ", ")
        let placeholders = Array(repeating: "?", count: plan.columns.count).joined(separator: ", ")
        let sql = "INSERT INTO \(SQLiteNames.quote(plan.target.name)) (\(columns)) VALUES (\(placeholders))"
        var loaded: Int64 = 0
        var lastYield = ContinuousClock.now
        while let batch = try pipe.receive() {
            if case let .encoded(bytes, _) = batch, encoding == .native(SQLiteAttachedCopy.encoding) {
                // Its own connection, open only for the copy.
                let copied = try SQLiteAttachedCopy.oneAtATime(into: url.database ?? "") {
                    try copyAttached(try SQLiteAttachedCopy.parse(bytes), plan: plan, columns: columns, fence: fence, queue: try open())
                }
                loaded += copied
                progress(Int(copied))
                continue
            }
            guard case let .rows(rows) = batch else {
                throw FerryError(.database, "SQLite target received rows in an encoding it does not read")
            }
            let queue = try rowsQueue ?? open()
            rowsQueue = queue
            // One transaction per batch, or per `commitRows` rows of it.
            for start in stride(from: 0, to: rows.count, by: max(1, commitRows ?? rows.count)) {
                let part = rows[start..<min(rows.count, start + max(1, commitRows ?? rows.count))]
                try SQLiteErrors.wrap(url) {
                    try queue.write { db in
                        try Self.checkClaims(of: fence, db)
                        let statement = try db.cachedStatement(sql: sql).sqliteStatement
                        defer { sqlite3_reset(statement) }
                        for row in part { try SQLiteValues.run(statement, binding: row, in: db) }
                    }
                }
                if fence != nil { yieldLock(&lastYield) }
            }
            loaded += Int64(rows.count)
            progress(rows.count)
        }
        return loaded
    }

    /// Runs a copy from an attached source file in one write transaction (checking the claims first, when
    /// fenced) and returns the rows it inserted. SQLite attaches only outside a transaction. With the file to
    /// itself, the copy writes with a rollback journal and puts WAL back after (``SQLiteJournalMode``).
    private func copyAttached(_ copy: (path: String, select: String), plan: TablePlan, columns: String, fence: LoadFence?,
                              queue: DatabaseQueue) throws -> Int64 {
        try SQLiteErrors.wrap(url) {
            try queue.writeWithoutTransaction { db in
                let leftWAL = SQLiteJournalMode.leaveWAL(db)
                // Not back in WAL (another connection held on for minutes): the next connection Ferry opens puts it back.
                defer { if leftWAL { try? SQLiteJournalMode.enterWAL(db, wait: Double(Self.lockWait)) } }
                try db.execute(sql: "ATTACH DATABASE ? AS \(SQLiteAttachedCopy.alias)", arguments: [copy.path])
                defer { try? db.execute(sql: "DETACH DATABASE \(SQLiteAttachedCopy.alias)") }
                var copied: Int64 = 0
                try db.inTransaction(.immediate) {
                    try Self.checkClaims(of: fence, db)
                    // Into every column in the table's order, the list is left out, so that SQLite may move whole records.
                    let existing = try Row.fetchAll(db, sql: "PRAGMA table_info(\(SQLiteNames.quote(plan.target.name)))").map { $0["name"] as String }
                    let into = existing == plan.columns.map(\.targetName) ? "" : " (\(columns))"
                    try db.execute(sql: "INSERT INTO \(SQLiteNames.quote(plan.target.name))\(into) " + copy.select)
                    copied = Int64(db.changesCount)
                    return .commit
                }
                return copied
            }
        }
    }

    /// Fenced, a load's write (which holds the file's lock) first checks the claims.
    private static func checkClaims(of fence: LoadFence?, _ db: Database) throws {
        for claim in fence?.claims ?? []
        where try Int64.fetchOne(db, sql: "SELECT epoch FROM \(ApplyStatements.statusTable) WHERE task_name = ?", arguments: [claim.row]) != claim.epoch {
            throw FerryError.fenced(task: claim.row, epoch: claim.epoch)
        }
    }

    /// Between two transactions of a fenced load, leaves the file's write lock free for a moment at least
    /// every ``lockYieldInterval``, so that a later run's claim (waiting with ``eagerBusyWait``) gets in
    /// rather than waiting for the whole load.
    private func yieldLock(_ last: inout ContinuousClock.Instant) {
        guard ContinuousClock.now - last >= Self.lockYieldInterval else { return }
        usleep(2000)
        last = .now
    }

    static let lockYieldInterval = Duration.milliseconds(100)

    public func createIndexes(_ plan: TablePlan) throws {
        let queue = try open()
        try SQLiteErrors.wrap(url) {
            try queue.write { db in
                for index in plan.source.indexes {
                    let columns = index.columns.compactMap(plan.targetName(ofSource:))
                    guard columns.count == index.columns.count else { continue }
                    let name = plan.source.engine == .sqlite ? index.name : "\(plan.target.name)_\(index.name)"
                    try db.execute(sql: """
                        CREATE \(index.unique ? "UNIQUE " : "")INDEX IF NOT EXISTS \(SQLiteNames.quote(name)) \
                        ON \(SQLiteNames.quote(plan.target.name)) (\(columns.map(SQLiteNames.quote).joined(separator: ", ")))
                        """)
                }
            }
        }
    }

    public func createForeignKeys(_ plan: TablePlan, loaded: [TableID: TablePlan]) throws {
        // Declared in CREATE TABLE by `prepare`.
    }
}
