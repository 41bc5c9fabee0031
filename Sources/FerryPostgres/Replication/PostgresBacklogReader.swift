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

    /// How many bytes of read messages wait for the stream at most.
    static let queueBytes = 16 << 20

    private let conn: PGConnection
    private let copy: String
    private let publication: String
    /// Guards what follows; a thread of the reader's own fills `queued` while the stream takes from it.
    private let condition = NSCondition()
    private var queued: [[UInt8]] = []
    private var queuedBytes = 0
    /// Set when a slice came back short: once `queued` is taken, the backlog is read.
    private var finished = false
    private var failure: Error?
    private var closed = false
    /// What the stream took from `queued` and has not yet read.
    private var taken: [[UInt8]] = []
    private var takenIndex = 0

    /// Opens a reader when the WAL from `position` (or the slot's confirmed position, when later) to the
    /// end is at least `threshold` bytes; nil when it is less. Confirms `position` on the slot first, so
    /// that the copy begins where the target is. The reader starts reading at once.
    static func open(url: ConnectionURL, slot: String, publication: String, after position: LSN, threshold: Int64) throws -> PostgresBacklogReader? {
        let conn = try PGConnection(url, settings: [("options", PGConnection.sessionOptions + " -c work_mem=\(sliceMemory)")])
        let at = PGConnection.literal(position.description) + "::pg_lsn", named = PGConnection.literal(slot)
        let backlog = try conn.query("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), GREATEST(confirmed_flush_lsn, \(at)))::bigint FROM pg_replication_slots WHERE slot_name = \(named)")
        guard let bytes = backlog.first?[0].flatMap({ Int64($0) }), bytes >= threshold else { return nil }
        let pid = try conn.query("SELECT pg_backend_pid()")[0][0] ?? "0"
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

    /// What the reader has for the stream.
    enum Read {
        /// The backlog's next pgoutput message.
        case message([UInt8])
        /// Nothing yet: the server is still decoding the slice.
        case waiting
        /// A slice came back short: the backlog is read.
        case end
    }

    /// The backlog's next message, waiting for it until `deadline`.
    func next(before deadline: Date) throws -> Read {
        if takenIndex == taken.count {
            condition.lock()
            defer { condition.unlock() }
            while queued.isEmpty, !finished, failure == nil {
                guard condition.wait(until: deadline) else { return .waiting }
            }
            if queued.isEmpty, let failure { throw failure }
            (taken, queued, takenIndex, queuedBytes) = (queued, [], 0, 0)
            condition.broadcast()
            if taken.isEmpty { return .end }
        }
        defer { takenIndex += 1 }
        return .message(taken[takenIndex])
    }

    /// Stops the reader's thread, which then closes its connection; the server drops the copy of the slot with it.
    func close() {
        condition.lock()
        closed = true
        condition.broadcast()
        condition.unlock()
    }

    /// The reader's thread: slices, one after the other, until one comes back short, the stream closes the
    /// reader or the server fails. While the server decodes a slice, the stream works on the one before.
    private func readSlices() {
        do {
            while true {
                let sql = "COPY (SELECT data FROM pg_logical_slot_get_binary_changes(\(PGConnection.literal(copy)), NULL, \(Self.sliceRows), "
                    + "'proto_version', '1', 'messages', 'true', 'publication_names', \(PGConnection.literal(PGConnection.quote(publication))))) TO STDOUT (FORMAT binary)"
                try conn.startCopyOut(sql)
                var rows = 0, batch: [[UInt8]] = [], bytes = 0
                while let message = try conn.readCopyRow(of: sql, { Array($0) }) {
                    guard let field = try BinaryCopyRow.field(of: message, first: rows == 0) else { continue }
                    rows += 1
                    bytes += field.count
                    batch.append(field)
                    if batch.count == 1000 {
                        guard hand(&batch, bytes: &bytes) else { return }
                    }
                }
                guard hand(&batch, bytes: &bytes) else { return }
                if rows < Self.sliceRows { return end(failure: nil) }
            }
        } catch {
            end(failure: error)
        }
    }

    /// Queues `batch` for the stream, waiting while the queue is full; false once the reader is closed.
    private func hand(_ batch: inout [[UInt8]], bytes: inout Int) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        while queuedBytes >= Self.queueBytes, !closed { condition.wait() }
        guard !closed else { return false }
        if queued.isEmpty { condition.broadcast() }
        queued += batch
        queuedBytes += bytes
        batch.removeAll(keepingCapacity: true)
        bytes = 0
        return true
    }

    private func end(failure: Error?) {
        condition.lock()
        finished = true
        self.failure = failure
        condition.broadcast()
        condition.unlock()
    }
}
