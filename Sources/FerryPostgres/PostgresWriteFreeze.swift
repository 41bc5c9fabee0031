import FerryCore
import Foundation

/// Writes frozen on PostgreSQL by `LOCK TABLE … IN EXCLUSIVE MODE` in a transaction of Ferry's own:
/// reads go on, every write waits. The lock is taken under `lock_timeout` (a long transaction that holds
/// a table fails the freeze rather than stretching it), and the session then ends itself after
/// `idle_in_transaction_session_timeout`, so the locks never outlive the cutover's timeout. Markers are
/// logical messages (`pg_logical_emit_message`) written from a second connection, each committed in a
/// transaction of its own.
final class PostgresWriteFreeze: WriteFreeze, @unchecked Sendable {
    let method: String
    private let locks: PGConnection
    private let markers: PGConnection
    private let tables: [TableID]
    private var released = false

    init(url: ConnectionURL, tables: [TableID], timeout: Double) throws {
        self.tables = tables
        let list = tables.map { PGConnection.quote($0) }.joined(separator: ", ")
        method = "LOCK TABLE \(list) IN EXCLUSIVE MODE"
        markers = try PGConnection(url)
        locks = try PGConnection(url)
        let started = Date()
        try locks.execute("BEGIN; SET LOCAL lock_timeout = \(Self.milliseconds(timeout))")
        do {
            try locks.execute(method)
        } catch let error as FerryError where error.message.contains("lock timeout") {
            try? locks.execute("ROLLBACK")
            throw FerryError(.database, "PostgreSQL \(url.location): writes could not be frozen within \(timeout) s: a transaction holds one of \(list) (see pg_locks and pg_stat_activity), so the freeze would outlast the timeout")
        }
        let left = timeout - Date().timeIntervalSince(started)
        try locks.execute("SET LOCAL idle_in_transaction_session_timeout = \(Self.milliseconds(left))")
    }

    private static func milliseconds(_ seconds: Double) -> Int { max(1, Int((seconds * 1000).rounded(.up))) }

    func write(_ marker: StreamMarker) throws -> String {
        try Self.write(marker, on: markers)
    }

    /// Writes a marker as a transactional logical message, committed on its own and flushed (a server
    /// with `synchronous_commit = off` would otherwise send it only when its WAL writer next runs);
    /// returns the message's LSN.
    static func write(_ marker: StreamMarker, on conn: PGConnection) throws -> String {
        try conn.execute("SET synchronous_commit = on")
        let rows = try conn.query("SELECT pg_logical_emit_message(true, \(PGConnection.literal(StreamMarker.prefix)), \(PGConnection.literal(marker.text)))::text")
        guard let text = rows.first?[0], LSN(text) != nil else {
            throw FerryError(.database, "PostgreSQL \(conn.location): pg_logical_emit_message returned no position")
        }
        return text
    }

    /// A statement trigger on each table, created inside the locking transaction: a writer that waited
    /// on the lock sees it once the lock is granted.
    func fence(note: String) throws {
        for schema in Set(tables.map(\.schema)).sorted() { try locks.execute(PostgresWriteFence.functionSQL(schema: schema)) }
        for table in tables { try locks.execute(PostgresWriteFence.triggerSQL(table, note: note)) }
    }

    func release() throws {
        guard !released else { return }
        released = true
        try locks.execute("COMMIT")
    }

    func abandon() throws {
        guard !released else { return }
        released = true
        try locks.execute("ROLLBACK")
    }
}

/// The write fence on PostgreSQL: a `BEFORE … FOR EACH STATEMENT` trigger `ferry_write_fence` that raises
/// `read_only_sql_transaction` unless the session set `ferry.applier` (Ferry's appliers do).
enum PostgresWriteFence {
    static let name = ControlTableNames.writeFence
    /// The session setting Ferry's appliers set, which the fence lets through.
    static let applierSetting = "SET ferry.applier = 'on'"

    static func functionSQL(schema: String) -> String {
        """
        CREATE OR REPLACE FUNCTION \(PGConnection.quote(schema)).\(name)() RETURNS trigger LANGUAGE plpgsql AS $fence$
        BEGIN
          IF current_setting('ferry.applier', true) IS DISTINCT FROM 'on' THEN
            RAISE EXCEPTION USING ERRCODE = 'read_only_sql_transaction', MESSAGE = TG_ARGV[0];
          END IF;
          RETURN NULL;
        END $fence$
        """
    }

    static func triggerSQL(_ table: TableID, note: String) -> String {
        """
        DROP TRIGGER IF EXISTS \(name) ON \(PGConnection.quote(table));
        CREATE TRIGGER \(name) BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON \(PGConnection.quote(table))
          FOR EACH STATEMENT EXECUTE FUNCTION \(PGConnection.quote(table.schema)).\(name)(\(PGConnection.literal("\(table): \(note)")))
        """
    }

    static func removeSQL(_ table: TableID) -> String {
        "DROP TRIGGER IF EXISTS \(name) ON \(PGConnection.quote(table))"
    }
}

extension PostgresSource {
    public func freezeWrites(_ tables: [TableID], task: String, timeout: Double) throws -> any WriteFreeze {
        try PostgresWriteFreeze(url: url, tables: tables, timeout: timeout)
    }

    public func writeMarker(_ marker: StreamMarker, task: String) throws -> String {
        try PostgresWriteFreeze.write(marker, on: PGConnection(url))
    }

    /// The stored position is the end of the transaction the target applied last, past the marker's own.
    public func position(_ applied: String, covers marker: String) -> Bool {
        guard let marker = LSN(marker), let applied = LSN(applied) else { return false }
        return applied >= marker
    }

    public func fencedTables(_ tables: [TableID]) throws -> [TableID] {
        guard !tables.isEmpty else { return [] }
        let fenced = Set(try PGConnection(url).query("""
            SELECT n.nspname, c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
            JOIN pg_namespace n ON n.oid = c.relnamespace WHERE t.tgname = \(PGConnection.literal(PostgresWriteFence.name))
            """).map { TableID(schema: $0[0] ?? "", name: $0[1] ?? "") })
        return tables.filter(fenced.contains)
    }

    /// Sessions of this database holding a transaction id (they wrote), from `pg_stat_activity`, and
    /// prepared transactions from `pg_prepared_xacts`; Ferry's own sessions are named `ferry`.
    public func cutoverBlockers(olderThan seconds: Double, asNewPrimary: Bool) throws -> [String] {
        let conn = try PGConnection(url)
        let age = asNewPrimary ? "application_name <> 'ferry'" : "xact_start < now() - make_interval(secs => \(seconds))"
        var lines = try conn.query("""
            SELECT pid, COALESCE(NULLIF(application_name, ''), usename::text), round(extract(epoch FROM now() - xact_start))::text
            FROM pg_stat_activity
            WHERE datname = current_database() AND backend_xid IS NOT NULL AND pid <> pg_backend_pid() AND \(age)
            ORDER BY xact_start
            """).map { row in
            asNewPrimary ? "PostgreSQL \(url.location): session \(row[0] ?? "?") (\(row[1] ?? "?")) writes to the new database: stop the application's writers there before the cutover"
                : "PostgreSQL \(url.location): session \(row[0] ?? "?") (\(row[1] ?? "?")) has held a writing transaction for \(row[2] ?? "?") s: a freeze would wait for it (commit or end it first)"
        }
        if !asNewPrimary {
            lines += try conn.query("SELECT gid FROM pg_prepared_xacts WHERE database = current_database()").map {
                "PostgreSQL \(url.location): prepared transaction \($0[0] ?? "?") is neither committed nor rolled back: it would commit around the freeze (COMMIT PREPARED or ROLLBACK PREPARED it first)"
            }
        }
        return lines
    }
}
