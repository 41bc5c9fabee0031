import CMariaDB
import FerryCore
import Foundation

/// A binlog dump from a MySQL/MariaDB server through Connector/C. `mariadb_rpl_fetch` blocks, so a
/// thread of its own reads events, assembles transactions and queues them; `next(timeout:)` takes them.
/// The server sends a heartbeat every second when idle, so the reader notices a stop within a second.
final class BinlogStream: @unchecked Sendable {
    private let queue = TransactionQueue(capacity: 50_000)
    private let stopped = StopFlag()
    private let finished = DispatchSemaphore(value: 0)

    /// Connects and starts reading after `position` (by GTID when `byGTID`) as replica `serverID`.
    init(url: ConnectionURL, position: BinlogPosition, byGTID: Bool, serverID: UInt32, schemas: [TableSchema]) throws {
        var variables = "@mariadb_slave_capability = 4, @master_heartbeat_period = 1000000000"
        if byGTID { variables += ", @slave_connect_state = \(MySQLConnection.literal(position.connectState)), @slave_gtid_strict_mode = 0" }
        let dump = try BinlogDump(url: url, file: byGTID ? "" : position.file, offset: byGTID ? 4 : position.offset,
                                  serverID: serverID, blocking: true, variables: variables)
        let assembler = BinlogTransactionAssembler(after: position, schemas: schemas)
        let reader = Thread { [queue, stopped, finished] in
            Self.read(dump, assembler, into: queue, until: stopped)
            finished.signal()
        }
        reader.name = "ferry-binlog"
        reader.start()
    }

    deinit { stop() }

    /// When `file` was started: the timestamp of its format description event, read with a short
    /// non-blocking dump as replica `serverID`.
    static func creationTime(url: ConnectionURL, file: String, serverID: UInt32) throws -> Date? {
        let dump = try BinlogDump(url: url, file: file, offset: 4, serverID: serverID, blocking: false)
        var decoder = BinlogEventDecoder()
        for _ in 0..<4 {
            guard let event = try dump.next() else { return nil }
            let (header, decoded) = try decoder.decode([UInt8](event))
            if case .formatDescription = decoded, header.nextPosition != 0 { return Date(timeIntervalSince1970: Double(header.timestamp)) }
        }
        return nil
    }

    /// The next committed transaction, or nil when none arrives within `timeout` seconds.
    func next(timeout: Double) throws -> ChangeTransaction? {
        try queue.take(timeout: timeout)
    }

    /// Stops the reader and waits (a few seconds at most) until its connection is closed.
    func stop() {
        guard stopped.set() else { return }
        queue.close()
        _ = finished.wait(timeout: .now() + 5)
    }

    private static func read(_ dump: BinlogDump, _ assembler: BinlogTransactionAssembler,
                             into queue: TransactionQueue, until stopped: StopFlag) {
        var assembler = assembler
        var decoder = BinlogEventDecoder()
        while !stopped.isSet {
            do {
                guard let event = try dump.next() else { return }
                // The binlog holds every database's changes: rows of tables the task does not capture are
                // skipped without being copied or decoded.
                if let tableID = BinlogEventDecoder.rowsTableID(event), !assembler.captures(tableID: tableID) { continue }
                if let (id, table) = BinlogEventDecoder.tableMapName(event), !assembler.captures(table, id: id) { continue }
                let (header, decoded) = try decoder.decode([UInt8](event))
                if let transaction = try assembler.add(header, decoded) {
                    guard queue.put(transaction) else { return }
                }
            } catch {
                if !stopped.isSet { queue.fail(error) }
                return
            }
        }
    }
}

/// A binlog dump: its connection and Connector/C reader, opened and closed together. Used from one thread.
final class BinlogDump: @unchecked Sendable {
    private let conn: MySQLConnection
    private let rpl: UnsafeMutablePointer<MARIADB_RPL>
    private let blocking: Bool
    private var event: UnsafeMutablePointer<MARIADB_RPL_EVENT>?

    /// Opens a dump of `file` from `offset` as replica `serverID`, after setting `variables` (besides the
    /// checksum, which the server insists on). A non-blocking dump ends at the end of the binlog.
    init(url: ConnectionURL, file: String, offset: UInt64, serverID: UInt32, blocking: Bool, variables: String = "") throws {
        conn = try MySQLConnection(url)
        self.blocking = blocking
        try conn.execute("SET @master_binlog_checksum = @@global.binlog_checksum" + (variables.isEmpty ? "" : ", " + variables))
        guard let rpl = ferry_rpl_init(conn.handle) else {
            throw FerryError(.connectionFailed, "MySQL \(url.location): the binlog reader could not start")
        }
        self.rpl = rpl
        ferry_rpl_set_server_id(rpl, serverID)
        ferry_rpl_set_flags(rpl, blocking ? 0 : UInt32(MARIADB_RPL_BINLOG_DUMP_NON_BLOCK))
        _ = file.withCString { ferry_rpl_set_file(rpl, $0, strlen($0)) }
        ferry_rpl_set_start(rpl, UInt(offset))
        if mariadb_rpl_open(rpl) != 0 { throw error() }
    }

    deinit {
        if let event { mariadb_free_rpl_event(event) }
        mariadb_rpl_close(rpl)
    }

    /// The next event, with its checksum and without the packet's status byte; valid until the next call.
    /// Nil at the end of a non-blocking dump.
    func next() throws -> UnsafeBufferPointer<UInt8>? {
        while true {
            guard let fetched = mariadb_rpl_fetch(rpl, event) else {
                event = nil
                // A non-blocking dump ends without an error when it reaches the end of the binlog.
                if !blocking, mysql_errno(conn.handle) == 0, mariadb_rpl_errno(rpl) == 0 { return nil }
                throw error()
            }
            event = fetched
            let raw = fetched.pointee
            guard raw.raw_data_size > 1, let data = raw.raw_data else { continue }
            return UnsafeBufferPointer(start: data + 1, count: raw.raw_data_size - 1)
        }
    }

    /// The reader's own error, or else the connection's (a lost connection is reported there).
    private func error() -> FerryError {
        var code = mariadb_rpl_errno(rpl)
        var text = String(cString: mariadb_rpl_error(rpl))
        if code == 0 {
            code = mysql_errno(conn.handle)
            text = String(cString: mysql_error(conn.handle))
        }
        switch code {
        case 1236:
            return FerryError(.invalidParameter, "MySQL \(conn.location): the binlog position is no longer on the server (\(text)); the binlog was purged before Ferry read it: reload the tables (start the task with reload-target)")
        case 2002, 2003, 2006, 2013, 2026, 2055, 0:
            return FerryError(.connectionFailed, "MySQL \(conn.location): the binlog stream broke: \(text.isEmpty ? "connection closed" : text) (error \(code))")
        default:
            return FerryError(.database, "MySQL \(conn.location): binlog: \(text) (error \(code))")
        }
    }
}

/// Transactions between the binlog reader and the task, bounded by the number of changes they hold.
final class TransactionQueue: @unchecked Sendable {
    private let condition = NSCondition()
    private var items: [ChangeTransaction] = []
    private var head = 0
    private var held = 0
    private var failure: Error?
    private var closed = false
    private let capacity: Int

    init(capacity: Int) { self.capacity = capacity }

    /// Queues a transaction, waiting while the queue is full; false once closed.
    func put(_ transaction: ChangeTransaction) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        while held > 0, held + transaction.changes.count > capacity, !closed { condition.wait() }
        guard !closed else { return false }
        items.append(transaction)
        held += transaction.changes.count
        condition.broadcast()
        return true
    }

    func fail(_ error: Error) {
        condition.lock()
        failure = error
        condition.broadcast()
        condition.unlock()
    }

    func close() {
        condition.lock()
        closed = true
        condition.broadcast()
        condition.unlock()
    }

    /// The oldest queued transaction; nil after `timeout` seconds without one. Throws the reader's error
    /// once everything before it has been taken.
    func take(timeout: Double) throws -> ChangeTransaction? {
        let deadline = Date().addingTimeInterval(timeout)
        condition.lock()
        defer { condition.unlock() }
        while head == items.count {
            if let failure { throw failure }
            if closed || !condition.wait(until: deadline) { return nil }
        }
        let transaction = items[head]
        head += 1
        if head > 1024, head * 2 > items.count {
            items.removeFirst(head)
            head = 0
        }
        held -= transaction.changes.count
        condition.broadcast()
        return transaction
    }
}
