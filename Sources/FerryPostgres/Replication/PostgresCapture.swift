import FerryCore
import Foundation

/// Change capture from PostgreSQL for one task: a pgoutput slot and a publication, both named
/// `ferry_<task>` (lower case, other characters as `_`), or the slot the URL's `slot_name` names (the
/// endpoint's `PostgreSQLSettings.SlotName`), which Ferry creates when missing and never drops. With
/// `heartbeat_seconds`, a row in `<heartbeat_schema>.awsdms_heartbeat` is written that often, so that a
/// database with no changes of its own still moves its slot forward. `sql_backlog_bytes` (bytes of WAL, or
/// `off`) says from which backlog the stream is read through SQL first (`PostgresBacklogReader`).
final class PostgresCapture: ChangeCapture, @unchecked Sendable {
    private let url: ConnectionURL
    private let name: String
    /// Whether the slot was named by the user rather than derived from the task.
    private let userNamed: Bool
    private var schemas: [TableSchema]
    private var stream: PostgresChangeStream?
    private let heartbeatSeconds: Double?
    private let backlogThreshold: Int64?
    private var lastHeartbeat = Date.distantPast

    init(url: ConnectionURL, task: String, schemas: [TableSchema]) throws {
        self.url = url
        self.schemas = schemas
        let named = url.parameters["slot_name"].flatMap { $0.isEmpty ? nil : $0 }
        name = named ?? Self.slotName(task: task)
        userNamed = named != nil
        heartbeatSeconds = url.parameters["heartbeat_seconds"].flatMap(Double.init)
        switch url.parameters["sql_backlog_bytes"] {
        case nil: backlogThreshold = PostgresBacklogReader.defaultThreshold
        case "off": backlogThreshold = nil
        case let given?:
            guard let bytes = Int64(given), bytes >= 0 else {
                throw FerryError(.invalidParameter, "PostgreSQL \(url.location): sql_backlog_bytes must be a number of bytes of WAL or off, not '\(given)'")
            }
            backlogThreshold = bytes
        }
    }

    /// The slot and publication name for a task.
    static func slotName(task: String) -> String {
        "ferry_" + String(task.lowercased().map { $0.isLetter || $0.isNumber ? $0 : "_" }.prefix(57))
    }

    func update(columnsOf changed: [TableSchema]) {
        schemas = schemas.map { schema in changed.first { $0.id == schema.id } ?? schema }
    }

    func exists() throws -> Bool {
        try !PGConnection(url).query("SELECT 1 FROM pg_replication_slots WHERE slot_name = \(PGConnection.literal(name))").isEmpty
    }

    func create(tables: [TableID]) throws -> (position: String, snapshot: String?) {
        if userNamed, try exists() {
            throw FerryError(.invalidParameter, "PostgreSQL \(url.location): slot \(name) (the endpoint's SlotName) exists, and a full load needs the snapshot of a slot created for it: drop the slot, or run the task as cdc from the slot's position")
        }
        let stream = try PostgresChangeStream(url: url, slot: name, publication: name, schemas: schemas, backlogThreshold: backlogThreshold)
        self.stream = stream
        let (start, snapshot) = try stream.createSlot(tables: tables)
        return (start.description, snapshot)
    }

    /// Drops Ferry's own slot and publication; a slot the user named is left alone.
    func drop() throws {
        guard !userNamed else { return }
        let conn = try PGConnection(url)
        try conn.execute("SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = \(PGConnection.literal(name))")
        try conn.execute("DROP PUBLICATION IF EXISTS \(PGConnection.quote(name))")
    }

    /// Starts on a new replication connection each time (after a lost connection, too); the connection
    /// that created the slot is closed here, once the full load has imported its snapshot.
    func start(after position: String) throws {
        guard let lsn = LSN(position) else { throw FerryError(.invalidParameter, "'\(position)' is not a PostgreSQL LSN (like 0/16B3748)") }
        let restarting = stream != nil
        stream = nil
        // After a lost connection the server may not have noticed yet that the slot's reader is gone; our own
        // connection, closed just now (a restart after a reload), it lets go of within a moment.
        if try !released(waiting: restarting ? Self.releaseWait : 0) {
            throw FerryError(.connectionFailed, "replication slot \(name) is still held by an earlier connection")
        }
        let stream = try PostgresChangeStream(url: url, slot: name, publication: name, schemas: schemas, backlogThreshold: backlogThreshold)
        self.stream = stream
        if userNamed { try ensurePublication() }
        try stream.start(after: lsn)
    }

    /// How long a slot's reader that was just ended takes to let go of it, at most.
    static let releaseWait = 5.0

    /// Whether no connection reads the slot, waiting up to `seconds` for one to let go of it.
    private func released(waiting seconds: Double) throws -> Bool {
        let conn = try PGConnection(url)
        let deadline = Date().addingTimeInterval(seconds)
        while try conn.query("SELECT active FROM pg_replication_slots WHERE slot_name = \(PGConnection.literal(name))").first?[0] == "t" {
            guard Date() < deadline else { return false }
            Thread.sleep(forTimeInterval: 0.1)
        }
        return true
    }

    /// Ends the walsender of an earlier run that still reads the slot (the server then lets the slot go).
    func takeOver() throws {
        let ended = try PGConnection(url).query("""
            SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots
            WHERE slot_name = \(PGConnection.literal(name)) AND active AND active_pid <> pg_backend_pid()
            """)
        guard !ended.isEmpty else { return }
        if try !released(waiting: Self.releaseWait) {
            throw FerryError(.database, "replication slot \(name) is still read by an earlier run after its reader was ended")
        }
    }

    func next(timeout: Double) throws -> ChangeTransaction? {
        guard let stream else { throw FerryError(.invalidParameter, "the change stream has not started") }
        if let every = heartbeatSeconds, Date().timeIntervalSince(lastHeartbeat) >= every {
            lastHeartbeat = Date()
            try beat()
        }
        return try stream.next(timeout: timeout)
    }

    /// Writes the heartbeat row (DMS's `awsdms_heartbeat` table): WAL in this database that the slot then passes.
    private func beat() throws {
        let table = PGConnection.quote(url.parameters["heartbeat_schema"] ?? "public") + ".awsdms_heartbeat"
        do {
            try PGConnection(url).execute("""
                CREATE TABLE IF NOT EXISTS \(table) (hb_id int PRIMARY KEY, hb_timestamp timestamptz NOT NULL);
                INSERT INTO \(table) VALUES (1, now()) ON CONFLICT (hb_id) DO UPDATE SET hb_timestamp = now()
                """)
        } catch let error as FerryError {
            throw FerryError(error.kind, "the heartbeat (HeartbeatEnable) cannot be written: \(error.message)")
        }
    }

    /// IDENTIFY_SYSTEM on a replication connection: the cluster's system identifier and its timeline.
    func identity() throws -> SourceIdentity? {
        let row = try PGConnection(url, replication: true).query("IDENTIFY_SYSTEM").first
        guard let system = row?[0] ?? nil, let timeline = row?[1] ?? nil else { return nil }
        return SourceIdentity(engine: .postgres, server: system, history: timeline)
    }

    /// The confirmed position of a slot the user named; nil for Ferry's own slots.
    func userCapturePosition() throws -> String? {
        guard userNamed else { return nil }
        let rows = try PGConnection(url).query("SELECT confirmed_flush_lsn, plugin FROM pg_replication_slots WHERE slot_name = \(PGConnection.literal(name))")
        guard let row = rows.first else { return nil }
        guard row[1] == "pgoutput" else {
            throw FerryError(.invalidParameter, "PostgreSQL \(url.location): slot \(name) uses the \(row[1] ?? "?") plugin; Ferry reads pgoutput slots (create it with pg_create_logical_replication_slot('\(name)', 'pgoutput'))")
        }
        return row[0]
    }

    func retainedBytes() throws -> Int64? {
        let rows = try PGConnection(url).query("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn)::bigint FROM pg_replication_slots WHERE slot_name = \(PGConnection.literal(name))")
        return rows.first?[0].flatMap { Int64($0) }
    }

    /// A slot the user created needs a publication of the same name, created before the slot: pgoutput
    /// reads each change with the catalog as it was then, so a publication created later is not seen.
    private func ensurePublication() throws {
        let conn = try PGConnection(url)
        guard try conn.query("SELECT 1 FROM pg_publication WHERE pubname = \(PGConnection.literal(name))").isEmpty else { return }
        let list = schemas.map { PGConnection.quote($0.id) }.joined(separator: ", ")
        throw FerryError(.invalidParameter, "PostgreSQL \(url.location): slot \(name) (the endpoint's SlotName) needs a publication named \(name), created before the slot: CREATE PUBLICATION \(PGConnection.quote(name)) FOR TABLE \(list)")
    }

    /// The slot must not have confirmed anything past the position: the server would silently start later.
    func checkStart(at position: String) throws {
        guard let lsn = LSN(position) else { throw FerryError(.invalidParameter, "CdcStartPosition '\(position)' is not a PostgreSQL LSN (like 0/16B3748)") }
        let rows = try PGConnection(url).query("SELECT confirmed_flush_lsn FROM pg_replication_slots WHERE slot_name = \(PGConnection.literal(name))")
        if let confirmed = rows.first?[0].flatMap(LSN.init), confirmed > lsn {
            throw FerryError(.invalidParameter, "CdcStartPosition \(position) is before what slot \(name) still holds (it starts at \(confirmed)); the changes in between are gone from the source")
        }
    }

    /// The slot must not have confirmed past the target's position: the server would start after its
    /// confirmed position, and the changes in between, which the target never got, would be skipped.
    func checkResume(after position: String) throws {
        guard let lsn = LSN(position) else { return }
        let rows = try PGConnection(url).query("SELECT confirmed_flush_lsn FROM pg_replication_slots WHERE slot_name = \(PGConnection.literal(name))")
        if let confirmed = rows.first?[0].flatMap(LSN.init), confirmed > lsn {
            throw FerryError(.captureLost, "PostgreSQL \(url.location): slot \(name) has confirmed changes up to \(confirmed), but the target holds them only up to \(lsn) "
                + "(a target restored from a backup, or a failover that lost commits): the changes in between cannot be read again. "
                + "Copy everything again: StartReplicationTask with reload-target (a task of ferry serve), or ferry migrate with a new --task")
        }
    }

    func acknowledge(_ position: String) throws {
        guard let lsn = LSN(position) else { return }
        try stream?.acknowledge(lsn)
    }
}
