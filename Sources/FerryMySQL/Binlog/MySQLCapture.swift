import FerryCore
import Foundation

/// Change capture from MySQL/MariaDB for one task: the binlog, read as a replica would, from the
/// position the target stores. Nothing is created on the source for it (a cutover's markers and fence
/// live in `awsdms_control`): the binlog is the server's, and the
/// server purges it on its own schedule (`binlog_expire_logs_seconds`), so a task stopped for longer
/// than that must reload.
final class MySQLCapture: ChangeCapture, @unchecked Sendable {
    private let url: ConnectionURL
    private var schemas: [TableSchema]
    /// The replica id this task's binlog dump uses: each reader of a server needs its own.
    let serverID: UInt32
    private var stream: BinlogStream?

    init(url: ConnectionURL, task: String, schemas: [TableSchema]) {
        self.url = url
        self.schemas = schemas
        serverID = Self.serverID(task: task)
    }

    /// A replica id derived from the task's name (FNV-1a), above 2^30 to stay clear of the ids people
    /// give their servers.
    static func serverID(task: String) -> UInt32 {
        var hash: UInt32 = 2_166_136_261
        for byte in task.utf8 { hash = (hash ^ UInt32(byte)) &* 16_777_619 }
        return 0x4000_0000 | (hash & 0x3fff_ffff)
    }

    func update(columnsOf changed: [TableSchema]) {
        schemas = schemas.map { schema in changed.first { $0.id == schema.id } ?? schema }
    }

    /// The binlog is server-wide: whether the stored position is still on the server shows when the stream starts.
    func exists() throws -> Bool {
        try checkBinlogSettings(try MySQLConnection(url))
        return true
    }

    /// The binlog position of a consistent snapshot taken now. The load's own snapshot is later, and
    /// changes from this position on are applied as upserts and deletes by key with full row images, so
    /// replaying the ones the load already copied converges (ARCHITECTURE §4 rule 1).
    func create(tables: [TableID]) throws -> (position: String, snapshot: String?) {
        let conn = try MySQLConnection(url)
        try checkBinlogSettings(conn)
        try conn.execute("START TRANSACTION WITH CONSISTENT SNAPSHOT")
        // MariaDB reports the binlog position that matches the snapshot exactly; MySQL only the current one.
        let status = Dictionary(try conn.query("SHOW STATUS LIKE 'binlog_snapshot_%'").map { ($0[0] ?? "", $0[1] ?? "") }) { a, _ in a }
        try conn.execute("COMMIT")
        if let file = status["Binlog_snapshot_file"], !file.isEmpty, let offset = status["Binlog_snapshot_position"].flatMap(UInt64.init) {
            return (BinlogPosition(file: file, offset: offset).description, nil)
        }
        guard let row = try conn.query("SHOW MASTER STATUS").first, let file = row[0], let offset = row[1].flatMap(UInt64.init) else {
            throw FerryError(.invalidParameter, "MySQL \(url.location): SHOW MASTER STATUS returned nothing: binary logging is off")
        }
        return (BinlogPosition(file: file, offset: offset).description, nil)
    }

    func drop() throws {
        stream?.stop()
        stream = nil
    }

    /// Starts reading after `position`: by file and offset, or by GTID when the server does not have the
    /// file (another server after a failover) or its file and offset are another place in the history (a
    /// replica promoted to primary that names its files alike).
    func start(after position: String) throws {
        guard let start = BinlogPosition(position) else {
            throw FerryError(.invalidParameter, "'\(position)' is not a binlog position (like mysql-bin.000003:1234)")
        }
        stream?.stop()
        stream = nil
        // The markers' table is read with the captured ones: its rows become the transactions' markers.
        let read = schemas + [MySQLStreamMarkers.schema]
        stream = try BinlogStream(url: url, position: start, byGTID: resumesByGTID(start), serverID: serverID, schemas: read)
    }

    /// Whether to read from the position's GTIDs rather than its file and offset: it has GTIDs (MariaDB),
    /// and the server either lacks the file or says the file and offset stand elsewhere than those GTIDs.
    /// False when it cannot tell: a server that does not list its files is read by file and offset.
    private func resumesByGTID(_ position: BinlogPosition) -> Bool {
        guard !position.gtids.isEmpty, let conn = try? MySQLConnection(url) else { return false }
        if let files = try? conn.query("SHOW BINARY LOGS").compactMap({ $0[0] }), !files.contains(position.file) { return true }
        let rows = try? conn.query("SELECT BINLOG_GTID_POS(\(MySQLConnection.literal(position.file)), \(position.offset))")
        guard let state = rows?.first?[0] ?? nil else { return false }
        return !position.offsetAgrees(withServerState: state)
    }

    func next(timeout: Double) throws -> ChangeTransaction? {
        guard let stream else { throw FerryError(.invalidParameter, "the change stream has not started") }
        return try stream.next(timeout: timeout).map(MySQLStreamMarkers.extract)
    }

    func checkStart(at position: String) throws {
        guard BinlogPosition(position) != nil else {
            throw FerryError(.invalidParameter, "CdcStartPosition '\(position)' is not a binlog position (like mysql-bin.000003:1234)")
        }
    }

    /// The start of the newest binlog file begun before `time` (the oldest when none is): the binlog does
    /// not index time, so the changes in that file committed before `time` are read and skipped.
    func position(before time: Date) throws -> String {
        let files = try MySQLConnection(url).query("SHOW BINARY LOGS").compactMap { $0[0] }
        guard let oldest = files.first else {
            throw FerryError(.invalidParameter, "MySQL \(url.location): the server holds no binlog (log_bin is off)")
        }
        for file in files.reversed() {
            if let started = try BinlogStream.creationTime(url: url, file: file, serverID: serverID ^ 1), started <= time {
                return BinlogPosition(file: file, offset: 4).description
            }
        }
        return BinlogPosition(file: oldest, offset: 4).description
    }

    /// Nothing to tell the server: a replica's reading holds no binlog back.
    func acknowledge(_ position: String) throws {}

    /// The binlog is kept by the server's expiry whatever Ferry reads, so there is nothing retained for Ferry to report.
    func retainedBytes() throws -> Int64? { nil }

    /// Change capture needs the binlog on, in row format, with full row images (old and new values of every column).
    private func checkBinlogSettings(_ conn: MySQLConnection) throws {
        let row = try conn.query("SELECT @@log_bin, @@binlog_format, @@binlog_row_image").first ?? []
        let settings = row.map { ($0 ?? "").uppercased() }
        guard settings.count == 3 else { return }
        if settings[0] != "1", settings[0] != "ON" {
            throw FerryError(.invalidParameter, "MySQL \(url.location): binary logging is off (log_bin); change data capture reads the binlog: start the server with --log-bin --binlog-format=ROW --binlog-row-image=FULL")
        }
        if settings[1] != "ROW" {
            throw FerryError(.invalidParameter, "MySQL \(url.location): binlog_format is \(settings[1]); change data capture needs ROW: SET GLOBAL binlog_format = 'ROW' (and in the server's configuration)")
        }
        if settings[2] != "FULL" {
            throw FerryError(.invalidParameter, "MySQL \(url.location): binlog_row_image is \(settings[2]); change data capture needs FULL: SET GLOBAL binlog_row_image = 'FULL' (and in the server's configuration)")
        }
    }

    /// The server's id and its GTID position (MariaDB's `gtid_binlog_pos`, MySQL's `gtid_executed`).
    func identity() throws -> SourceIdentity? {
        let conn = try MySQLConnection(url)
        let row = try conn.query("SELECT @@server_id, " + (conn.isMariaDB ? "@@gtid_binlog_pos" : "@@gtid_executed")).first
        guard let server = row?[0] ?? nil else { return nil }
        return SourceIdentity(engine: .mysql, server: server, history: (row?[1] ?? nil) ?? "")
    }
}
