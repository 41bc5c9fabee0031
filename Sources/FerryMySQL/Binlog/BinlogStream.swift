import CMariaDB
import FerryCore
import Foundation

/// A binlog dump from a MySQL/MariaDB server through Connector/C. `mariadb_rpl_fetch` blocks, so a
/// thread of its own reads events, assembles transactions and queues them; `next(timeout:)` takes them.
/// The server sends a heartbeat every second when idle, so the reader notices a stop within a second.
final class BinlogStream: @unchecked Sendable {
    private let queue = TransactionQueue(capacity: 50_000)
    private let stopped = ManagedStop()
    private let finished = DispatchSemaphore(value: 0)
    private let location: String

    /// Connects and starts reading after `position` (by GTID when `byGTID`) as replica `serverID`.
    init(url: ConnectionURL, position: BinlogPosition, byGTID: Bool, serverID: UInt32, schemas: [TableSchema]) throws {
        location = url.location
        let conn = try MySQLConnection(url)
        var setup = "SET @master_binlog_checksum = @@global.binlog_checksum, @mariadb_slave_capability = 4, @master_heartbeat_period = 1000000000"
        if byGTID { setup += ", @slave_connect_state = \(MySQLConnection.literal(position.connectState)), @slave_gtid_strict_mode = 0" }
        try conn.execute(setup)
        guard let rpl = ferry_rpl_init(conn.handle) else {
            throw FerryError(.connectionFailed, "MySQL \(location): the binlog reader could not start")
        }
        ferry_rpl_set_server_id(rpl, serverID)
        ferry_rpl_set_flags(rpl, 0)
        let file = byGTID ? "" : position.file
        _ = file.withCString { ferry_rpl_set_file(rpl, $0, strlen($0)) }
        ferry_rpl_set_start(rpl, UInt(byGTID ? 4 : position.offset))
        let dump = BinlogDump(conn: conn, rpl: rpl)
        if mariadb_rpl_open(rpl) != 0 { throw Self.error(dump, conn.location) }
        let assembler = BinlogTransactionAssembler(after: position, schemas: schemas)
        let reader = Thread { [queue, stopped, finished, location] in
            Self.read(dump, assembler, into: queue, until: stopped, location: location)
            finished.signal()
        }
        reader.name = "ferry-binlog"
        reader.start()
    }

    deinit { stop() }

    /// When `file` was started: the timestamp of its format description event, read with a short
    /// non-blocking dump as replica `serverID`.
    static func creationTime(url: ConnectionURL, file: String, serverID: UInt32) throws -> Date? {
        let conn = try MySQLConnection(url)
        try conn.execute("SET @master_binlog_checksum = @@global.binlog_checksum")
        guard let rpl = ferry_rpl_init(conn.handle) else { return nil }
        let dump = BinlogDump(conn: conn, rpl: rpl)
        ferry_rpl_set_server_id(rpl, serverID)
        ferry_rpl_set_flags(rpl, UInt32(MARIADB_RPL_BINLOG_DUMP_NON_BLOCK))
        _ = file.withCString { ferry_rpl_set_file(rpl, $0, strlen($0)) }
        ferry_rpl_set_start(rpl, 4)
        if mariadb_rpl_open(rpl) != 0 { throw error(dump, conn.location) }
        var decoder = BinlogEventDecoder()
        var event: UnsafeMutablePointer<MARIADB_RPL_EVENT>?
        defer { if let event { mariadb_free_rpl_event(event) } }
        for _ in 0..<4 {
            guard let fetched = mariadb_rpl_fetch(rpl, event) else { event = nil; return nil }
            event = fetched
            let raw = fetched.pointee
            guard raw.raw_data_size > 1, let data = raw.raw_data else { continue }
            let (header, decoded) = try decoder.decode([UInt8](UnsafeBufferPointer(start: data + 1, count: raw.raw_data_size - 1)))
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
                             into queue: TransactionQueue, until stopped: ManagedStop, location: String) {
        let rpl = dump.rpl
        var assembler = assembler
        var decoder = BinlogEventDecoder()
        var event: UnsafeMutablePointer<MARIADB_RPL_EVENT>?
        defer {
            if let event { mariadb_free_rpl_event(event) }
        }
        while !stopped.isSet {
            guard let fetched = mariadb_rpl_fetch(rpl, event) else {
                event = nil
                if !stopped.isSet { queue.fail(error(dump, location)) }
                return
            }
            event = fetched
            // raw_data is the network packet: a status byte, then the event with its checksum.
            let raw = fetched.pointee
            guard raw.raw_data_size > 1, let data = raw.raw_data else { continue }
            let event = UnsafeBufferPointer(start: data + 1, count: raw.raw_data_size - 1)
            // The binlog holds every database's changes: rows of tables the task does not capture are
            // skipped without being copied or decoded.
            if let tableID = BinlogEventDecoder.rowsTableID(event), !assembler.captures(tableID: tableID) { continue }
            if let (id, table) = BinlogEventDecoder.tableMapName(event), !assembler.captures(table, id: id) { continue }
            let bytes = [UInt8](event)
            do {
                let (header, decoded) = try decoder.decode(bytes)
                if let transaction = try assembler.add(header, decoded) {
                    guard queue.put(transaction) else { return }
                }
            } catch {
                queue.fail(error)
                return
            }
        }
    }

    private static func error(_ dump: BinlogDump, _ location: String) -> FerryError {
        // The reader's own error, or else the connection's (a lost connection is reported there).
        var code = mariadb_rpl_errno(dump.rpl)
        var text = String(cString: mariadb_rpl_error(dump.rpl))
        if code == 0 {
            code = mysql_errno(dump.conn.handle)
            text = String(cString: mysql_error(dump.conn.handle))
        }
        switch code {
        case 1236:
            return FerryError(.invalidParameter, "MySQL \(location): the binlog position is no longer on the server (\(text)); the binlog was purged before Ferry read it: reload the tables (start the task with reload-target)")
        case 2002, 2003, 2006, 2013, 2026, 2055, 0:
            return FerryError(.connectionFailed, "MySQL \(location): the binlog stream broke: \(text.isEmpty ? "connection closed" : text) (error \(code))")
        default:
            return FerryError(.database, "MySQL \(location): binlog: \(text) (error \(code))")
        }
    }
}

/// The dump connection and its Connector/C reader, closed together; used by the reader thread only.
final class BinlogDump: @unchecked Sendable {
    let conn: MySQLConnection
    let rpl: UnsafeMutablePointer<MARIADB_RPL>

    init(conn: MySQLConnection, rpl: UnsafeMutablePointer<MARIADB_RPL>) {
        self.conn = conn
        self.rpl = rpl
    }

    deinit { mariadb_rpl_close(rpl) }
}

/// A one-time stop signal shared with the reader thread.
final class ManagedStop: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false

    /// Sets the flag; false when it was set already.
    func set() -> Bool { lock.withLock { defer { value = true }; return !value } }
    var isSet: Bool { lock.withLock { value } }
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
