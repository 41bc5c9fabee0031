import FerryCore
import Foundation

/// Writes frozen on MySQL/MariaDB by `LOCK TABLES … READ` in a session of Ferry's own: reads go on, every
/// write waits. `lock_wait_timeout` bounds the wait for the lock (a transaction that holds a table fails
/// the freeze), and `wait_timeout` ends the idle session, and its locks, soon after the cutover's timeout
/// even if Ferry hangs. The fence's triggers are created before the lock (a READ lock forbids DDL) and armed
/// under it by a row in `ferry_write_fence`, committed with the release. After a crash the triggers stay,
/// inert, until the next cutover or `ferry cutover --complete` removes them.
final class MySQLWriteFreeze: WriteFreeze, @unchecked Sendable {
    let method: String
    private let locks: MySQLConnection
    private let other: MySQLConnection
    private let tables: [TableID]
    private let url: ConnectionURL
    private var released = false
    /// Whether the fence's row is written, in a transaction still open.
    private var armed = false

    init(url: ConnectionURL, tables: [TableID], timeout: Double) throws {
        self.url = url
        self.tables = tables
        method = "LOCK TABLES \(tables.map { MySQLConnection.quote($0) + " READ" }.joined(separator: ", "))"
        other = try MySQLConnection(url)
        locks = try MySQLConnection(url)
        let seconds = max(1, Int(timeout.rounded(.up)))
        try locks.execute("SET SESSION lock_wait_timeout = \(seconds)")
        try other.execute("SET SESSION lock_wait_timeout = \(seconds)")
        do {
            try MySQLWriteFence.prepare(tables, on: other)
            try locks.execute(method)
        } catch let error as FerryError where error.message.contains("Lock wait timeout") {
            try? MySQLWriteFence.remove(tables, on: other)
            throw FerryError(.database, "MySQL \(url.location): writes could not be frozen within \(seconds) s: a transaction holds one of \(tables.map(\.description).joined(separator: ", ")) (see SHOW PROCESSLIST), so the freeze would outlast the timeout")
        }
        try locks.execute("SET SESSION wait_timeout = \(seconds + 1)")
    }

    func write(_ marker: StreamMarker) throws -> String {
        try MySQLStreamMarkers.write(marker, on: other)
    }

    /// Arms the fence in a transaction committed just before the tables unlock, so a Ferry that dies
    /// before the release leaves it inert.
    func fence(note: String) throws {
        try other.execute("START TRANSACTION")
        armed = true
        try MySQLWriteFence.arm(tables, on: other)
    }

    func release() throws {
        guard !released else { return }
        if armed { try other.execute("COMMIT") }
        released = true
        try locks.execute("UNLOCK TABLES")
    }

    /// Rolls the fence's row back and unlocks, then removes its triggers (dropping them needs the tables unlocked).
    func abandon() throws {
        guard !released else { return }
        if armed { try other.execute("ROLLBACK") }
        armed = false
        try release()
        try MySQLWriteFence.remove(tables, on: other)
    }
}

/// Ferry's stream markers on MySQL/MariaDB: a row per task in `awsdms_control.ferry_stream_markers`, whose
/// binlog row events the capture turns into the transaction's marker.
enum MySQLStreamMarkers {
    static let table = TableID(schema: MySQLApplier.defaultControlSchema, name: ControlTableNames.streamMarkers)

    /// The table as the capture decodes it.
    static let schema = TableSchema(id: table, engine: .mysql, columns: [
        Column(name: "task", type: .varchar(length: 255), nativeType: "varchar(255)", nullable: false),
        Column(name: "marker", type: .varchar(length: 255), nativeType: "varchar(255)", nullable: false),
    ], primaryKey: ["task"])

    /// Writes the marker (creating the table the first time) and returns the binlog position after it.
    static func write(_ marker: StreamMarker, on conn: MySQLConnection) throws -> String {
        try conn.execute("CREATE DATABASE IF NOT EXISTS \(MySQLConnection.quote(table.schema))")
        try conn.execute("""
            CREATE TABLE IF NOT EXISTS \(MySQLConnection.quote(table)) (task varchar(255) PRIMARY KEY, marker varchar(255) NOT NULL)
              ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin
            """)
        try conn.execute("""
            INSERT INTO \(MySQLConnection.quote(table)) VALUES (\(MySQLConnection.literal(marker.task)), \(MySQLConnection.literal(marker.text)))
              ON DUPLICATE KEY UPDATE marker = VALUES(marker)
            """)
        guard let row = try conn.query("SHOW MASTER STATUS").first, let file = row[0], let offset = row[1].flatMap(UInt64.init) else {
            throw FerryError(.invalidParameter, "MySQL \(conn.location): SHOW MASTER STATUS returned nothing: binary logging is off")
        }
        return BinlogPosition(file: file, offset: offset).description
    }

    /// The transaction with the marker its rows carry, and without those rows.
    static func extract(_ transaction: ChangeTransaction) -> ChangeTransaction {
        var transaction = transaction
        for change in transaction.changes where change.table == table {
            if let index = change.columns.firstIndex(of: "marker"), index < change.values.count, case let .text(text)? = change.values[index] {
                transaction.marker = StreamMarker(text: text) ?? transaction.marker
            }
        }
        transaction.changes.removeAll { $0.table == table }
        return transaction
    }
}

/// The write fence on MySQL/MariaDB: `BEFORE` triggers on each table that signal SQLSTATE 45000 while
/// `awsdms_control.ferry_write_fence` holds the table's row, unless the session set `@ferry_applier`
/// (Ferry's appliers do). The row is read with a locking read, so a writer whose snapshot predates it
/// still sees it.
enum MySQLWriteFence {
    static let table = TableID(schema: MySQLApplier.defaultControlSchema, name: ControlTableNames.writeFence)
    /// What Ferry's appliers run at connect, which the fence lets through.
    static let applierSetting = "SET @ferry_applier = 1"

    /// Creates the flag table and each table's triggers, disarmed.
    static func prepare(_ tables: [TableID], on conn: MySQLConnection) throws {
        try conn.execute("CREATE DATABASE IF NOT EXISTS \(MySQLConnection.quote(table.schema))")
        try conn.execute("""
            CREATE TABLE IF NOT EXISTS \(MySQLConnection.quote(table)) (tbl varchar(255) PRIMARY KEY)
              ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin
            """)
        for target in tables {
            for operation in ["INSERT", "UPDATE", "DELETE"] {
                try conn.execute("DROP TRIGGER IF EXISTS \(trigger(target, operation))")
                try conn.execute("""
                    CREATE TRIGGER \(trigger(target, operation)) BEFORE \(operation) ON \(MySQLConnection.quote(target)) FOR EACH ROW
                    BEGIN
                      DECLARE fenced INT DEFAULT 0;
                      IF @ferry_applier IS NULL THEN
                        SELECT COUNT(*) INTO fenced FROM \(MySQLConnection.quote(table)) WHERE tbl = \(MySQLConnection.literal(target.description)) LOCK IN SHARE MODE;
                        IF fenced > 0 THEN
                          SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = \(MySQLConnection.literal(message(target)));
                        END IF;
                      END IF;
                    END
                    """)
            }
        }
    }

    static func arm(_ tables: [TableID], on conn: MySQLConnection) throws {
        for target in tables {
            try conn.execute("INSERT IGNORE INTO \(MySQLConnection.quote(table)) VALUES (\(MySQLConnection.literal(target.description)))")
        }
    }

    static func disarm(_ tables: [TableID], on conn: MySQLConnection) throws {
        for target in tables {
            try conn.execute("DELETE FROM \(MySQLConnection.quote(table)) WHERE tbl = \(MySQLConnection.literal(target.description))")
        }
    }

    /// Disarms and drops the fence of `tables`, where there is one.
    static func remove(_ tables: [TableID], on conn: MySQLConnection) throws {
        guard try !conn.query("SELECT 1 FROM information_schema.TABLES WHERE TABLE_SCHEMA = \(MySQLConnection.literal(table.schema)) AND TABLE_NAME = \(MySQLConnection.literal(table.name))").isEmpty else { return }
        try disarm(tables, on: conn)
        for target in tables {
            for operation in ["INSERT", "UPDATE", "DELETE"] { try conn.execute("DROP TRIGGER IF EXISTS \(trigger(target, operation))") }
        }
    }

    /// `ferry_write_fence_<table>_<op>` in the table's database, cut to MySQL's 64 characters.
    private static func trigger(_ target: TableID, _ operation: String) -> String {
        let name = "\(ControlTableNames.writeFence)_\(target.name)".prefix(57) + "_" + operation.lowercased().prefix(3)
        return MySQLConnection.quote(TableID(schema: target.schema, name: String(name)))
    }

    /// MySQL's MESSAGE_TEXT holds 128 characters.
    private static func message(_ target: TableID) -> String {
        String("\(target): moved to another database by a Ferry cutover; write to the new database".prefix(128))
    }
}

extension BinlogPosition {
    /// Whether this position is at or past `other` in the binlog (file sequence, then offset).
    func covers(_ other: BinlogPosition) -> Bool {
        let mine = Self.sequence(file), theirs = Self.sequence(other.file)
        return mine != theirs ? mine > theirs : offset >= other.offset
    }

    /// The number a binlog file name ends with (`binlog.000003` → 3).
    private static func sequence(_ file: String) -> Int {
        Int(file.split(separator: ".").last ?? "") ?? 0
    }
}

extension MySQLSource {
    public func freezeWrites(_ tables: [TableID], task: String, timeout: Double) throws -> any WriteFreeze {
        try MySQLWriteFreeze(url: url, tables: tables, timeout: timeout)
    }

    public func writeMarker(_ marker: StreamMarker, task: String) throws -> String {
        try MySQLStreamMarkers.write(marker, on: MySQLConnection(url))
    }

    public func position(_ applied: String, covers marker: String) -> Bool {
        guard let applied = BinlogPosition(applied), let marker = BinlogPosition(marker) else { return false }
        return applied.covers(marker)
    }

    /// The tables whose fence is armed (a fence left inert by a crash does not count).
    public func fencedTables(_ tables: [TableID]) throws -> [TableID] {
        let conn = try MySQLConnection(url, databaseMayBeMissing: true)
        let fence = MySQLWriteFence.table
        guard try !conn.query("SELECT 1 FROM information_schema.TABLES WHERE TABLE_SCHEMA = \(MySQLConnection.literal(fence.schema)) AND TABLE_NAME = \(MySQLConnection.literal(fence.name))").isEmpty else { return [] }
        let armed = Set(try conn.query("SELECT tbl FROM \(MySQLConnection.quote(fence))").compactMap { $0[0] })
        return tables.filter { armed.contains($0.description) }
    }

    /// On the database frozen: InnoDB transactions that changed rows and are older than `seconds`, and XA
    /// transactions left prepared. On the new database Ferry's sessions cannot be told apart from the
    /// application's, so nothing is said.
    public func cutoverBlockers(olderThan seconds: Double, asNewPrimary: Bool) throws -> [String] {
        guard !asNewPrimary else { return [] }
        let conn = try MySQLConnection(url)
        var lines = try conn.query("""
            SELECT trx_mysql_thread_id, TIMESTAMPDIFF(SECOND, trx_started, NOW()) FROM information_schema.INNODB_TRX
            WHERE trx_rows_modified > 0 AND trx_started < NOW() - INTERVAL \(Int(seconds.rounded(.up))) SECOND ORDER BY trx_started
            """).map {
            "MySQL \(url.location): connection \($0[0] ?? "?") has held a writing transaction for \($0[1] ?? "?") s: a freeze would wait for it (commit or end it first)"
        }
        lines += try conn.query("XA RECOVER").map {
            "MySQL \(url.location): XA transaction \($0.last.flatMap { $0 } ?? "?") is prepared: it would commit around the freeze (XA COMMIT or XA ROLLBACK it first)"
        }
        return lines
    }
}

extension MySQLTarget {
    public func removeWriteFence(_ tables: [TableID]) throws {
        try MySQLWriteFence.remove(tables, on: MySQLConnection(url, databaseMayBeMissing: true))
    }
}
