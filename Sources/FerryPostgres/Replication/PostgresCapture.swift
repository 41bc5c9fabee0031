import FerryCore

/// Change capture from PostgreSQL for one task: a pgoutput slot and a publication, both named
/// `ferry_<task>` (lower case, other characters as `_`).
final class PostgresCapture: ChangeCapture, @unchecked Sendable {
    private let url: ConnectionURL
    private let name: String
    private let schemas: [TableSchema]
    private var stream: PostgresChangeStream?

    init(url: ConnectionURL, task: String, schemas: [TableSchema]) {
        self.url = url
        self.schemas = schemas
        name = Self.slotName(task: task)
    }

    /// The slot and publication name for a task.
    static func slotName(task: String) -> String {
        "ferry_" + String(task.lowercased().map { $0.isLetter || $0.isNumber ? $0 : "_" }.prefix(57))
    }

    func exists() throws -> Bool {
        try !PGConnection(url).query("SELECT 1 FROM pg_replication_slots WHERE slot_name = \(PGConnection.literal(name))").isEmpty
    }

    func create(tables: [TableID]) throws -> (position: String, snapshot: String?) {
        let stream = try PostgresChangeStream(url: url, slot: name, publication: name, schemas: schemas)
        self.stream = stream
        let (start, snapshot) = try stream.createSlot(tables: tables)
        return (start.description, snapshot)
    }

    func drop() throws {
        let conn = try PGConnection(url)
        try conn.execute("SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = \(PGConnection.literal(name))")
        try conn.execute("DROP PUBLICATION IF EXISTS \(PGConnection.quote(name))")
    }

    /// Starts on a new replication connection each time (after a lost connection, too); the connection
    /// that created the slot is closed here, once the full load has imported its snapshot.
    func start(after position: String) throws {
        guard let lsn = LSN(position) else { throw FerryError(.invalidParameter, "'\(position)' is not a PostgreSQL LSN (like 0/16B3748)") }
        stream = nil
        // After a lost connection the server may not have noticed yet that the slot's reader is gone.
        let active = try PGConnection(url).query("SELECT active FROM pg_replication_slots WHERE slot_name = \(PGConnection.literal(name))")
        if active.first?[0] == "t" {
            throw FerryError(.connectionFailed, "replication slot \(name) is still held by an earlier connection")
        }
        let stream = try PostgresChangeStream(url: url, slot: name, publication: name, schemas: schemas)
        self.stream = stream
        try stream.start(after: lsn)
    }

    func next(timeout: Double) throws -> ChangeTransaction? {
        guard let stream else { throw FerryError(.invalidParameter, "the change stream has not started") }
        return try stream.next(timeout: timeout)
    }

    func retainedBytes() throws -> Int64? {
        let rows = try PGConnection(url).query("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn)::bigint FROM pg_replication_slots WHERE slot_name = \(PGConnection.literal(name))")
        return rows.first?[0].flatMap { Int64($0) }
    }

    /// The slot must not have confirmed anything past the position: the server would silently start later.
    func checkStart(at position: String) throws {
        guard let lsn = LSN(position) else { throw FerryError(.invalidParameter, "CdcStartPosition '\(position)' is not a PostgreSQL LSN (like 0/16B3748)") }
        let rows = try PGConnection(url).query("SELECT confirmed_flush_lsn FROM pg_replication_slots WHERE slot_name = \(PGConnection.literal(name))")
        if let confirmed = rows.first?[0].flatMap(LSN.init), confirmed > lsn {
            throw FerryError(.invalidParameter, "CdcStartPosition \(position) is before what slot \(name) still holds (it starts at \(confirmed)); the changes in between are gone from the source")
        }
    }

    func acknowledge(_ position: String) throws {
        guard let lsn = LSN(position) else { return }
        try stream?.acknowledge(lsn)
    }
}
