import FerryCore
import Foundation

/// Reads a slot's backlog through SQL rather than a walsender, which spends most of its time sending each
/// change as a message of its own: `pg_logical_slot_get_binary_changes` decodes a slice of transactions in
/// a backend, and a binary COPY hands them over in bulk (bench/RESULTS.md has the measurements).
///
/// The reader works on a temporary copy of the slot, made at the position the target holds. Reading
/// consumes the copy, never the slot itself: the slot moves only as far as the target has applied
/// (`confirm`), and a crash loses nothing, because the server drops a temporary slot with its session.
/// Slices hold whole transactions. Once a slice comes back short, the backlog is read to the end of the
/// WAL and the stream goes on through the walsender.
public final class PostgresBacklogReader: @unchecked Sendable {
    /// The most rows (pgoutput messages) one slice asks for.
    static let sliceRows = 100_000
    /// The server's memory for a slice before it spills the slice to disk.
    static let sliceMemory = "64MB"
    /// The backlog, in bytes of WAL, from which it is read through SQL unless the source's URL says
    /// otherwise (`sql_backlog_bytes`): at this size a slice's saving outweighs starting the reader.
    public static let defaultThreshold: Int64 = 16 << 20

    /// How many messages the reader's thread hands over at a time.
    static let chunkMessages = 1000
    /// How many chunks wait for the stream at most.
    static let queuedChunks = 16

    private let conn: PGConnection
    private let copy: String
    private let publication: String
    /// From the reader's thread to the stream.
    private let handover = Handover<[[UInt8]]>(capacity: queuedChunks)
    /// The chunk the stream is reading, and where.
    private var chunk: [[UInt8]] = []
    private var chunkIndex = 0

    /// Opens a reader when the WAL from `position` (or the slot's confirmed position, when later) to the
    /// end is at least `threshold` bytes; nil when it is less. Confirms `position` on the slot first, so
    /// that the copy begins where the target is. The reader starts reading at once.
    static func open(url: ConnectionURL, slot: String, publication: String, after position: LSN, threshold: Int64) throws -> PostgresBacklogReader? {
        let conn = try PGConnection(url, settings: [("options", PGConnection.sessionOptions + " -c work_mem=\(sliceMemory)")])
        let at = PGConnection.literal(position.description) + "::pg_lsn", named = PGConnection.literal(slot)
        let backlog = try conn.query("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), GREATEST(confirmed_flush_lsn, \(at)))::bigint, pg_backend_pid() FROM pg_replication_slots WHERE slot_name = \(named)")
        guard let row = backlog.first, let bytes = row[0].flatMap({ Int64($0) }), bytes >= threshold, let pid = row[1] else { return nil }
        let copy = "\(slot.prefix(40))_backlog_\(pid)"
        try confirm(slot: slot, at: position, on: conn)
        try conn.execute("SELECT pg_copy_logical_replication_slot(\(named), \(PGConnection.literal(copy)), true)")
        let reader = PostgresBacklogReader(conn: conn, copy: copy, publication: publication)
        let thread = Thread { reader.readSlices() }
        thread.name = "ferry-pg-backlog"
        thread.start()
        return reader
    }

    /// Moves the slot's confirmed position to `position`, which the target holds, when it is behind it. An
    /// advance decodes the WAL from the slot's restart point again, so it is skipped when nothing would move.
    static func confirm(slot: String, at position: LSN, on conn: PGConnection) throws {
        let at = PGConnection.literal(position.description) + "::pg_lsn"
        try conn.execute("SELECT pg_replication_slot_advance(slot_name, \(at)) FROM pg_replication_slots WHERE slot_name = \(PGConnection.literal(slot)) AND confirmed_flush_lsn < \(at)")
    }

    private init(conn: PGConnection, copy: String, publication: String) {
        self.conn = conn
        self.copy = copy
        self.publication = publication
    }

    /// The backlog's next pgoutput message, waiting for it until `deadline`: `waiting` while the server
    /// still decodes a slice, `ended` once a slice came back short (the backlog is read).
    func next(before deadline: Date) throws -> Handover<[UInt8]>.Arrival {
        if chunkIndex == chunk.count {
            switch try handover.receive(before: deadline) {
            case let .item(next): (chunk, chunkIndex) = (next, 0)
            case .waiting: return .waiting
            case .ended: return .ended
            }
        }
        defer { chunkIndex += 1 }
        return .item(chunk[chunkIndex])
    }

    /// Stops the reader's thread, which then closes its connection; the server drops the copy of the slot with it.
    func close() {
        handover.abort(FerryError.cancelled)
    }

    /// The reader's thread: slices, one after the other, until one comes back short, the stream closes the
    /// reader or the server fails. While the server decodes a slice, the stream works on the one before.
    private func readSlices() {
        do {
            while true {
                let sql = "COPY (SELECT data FROM pg_logical_slot_get_binary_changes(\(PGConnection.literal(copy)), NULL, \(Self.sliceRows), "
                    + "'proto_version', '1', 'messages', 'true', 'publication_names', \(PGConnection.literal(PGConnection.quote(publication))))) TO STDOUT (FORMAT binary)"
                try conn.startCopyOut(sql)
                var rows = 0, messages: [[UInt8]] = []
                while let field = try conn.readCopyRow(of: sql, { try BinaryCopyRow.field(of: $0, first: rows == 0) }) {
                    guard let message = field else { continue }
                    rows += 1
                    messages.append(message)
                    if messages.count == Self.chunkMessages {
                        try handover.send(messages)
                        messages.removeAll(keepingCapacity: true)
                    }
                }
                if !messages.isEmpty { try handover.send(messages) }
                if rows < Self.sliceRows { return handover.finish() }
            }
        } catch {
            // After `close`, the error is the stream's own and nobody reads it.
            handover.finish(throwing: error)
        }
    }
}
