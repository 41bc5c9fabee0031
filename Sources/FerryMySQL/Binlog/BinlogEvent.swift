import FerryCore

/// The common 19-byte header of every binlog event.
struct BinlogEventHeader: Equatable {
    var timestamp: UInt32
    var type: UInt8
    var serverID: UInt32
    var size: UInt32
    /// The position in the binlog file just after this event; 0 for events the server makes up
    /// (the rotate and format description that open a stream).
    var nextPosition: UInt32
    var flags: UInt16

    static let size = 19
}

/// A MariaDB global transaction ID, `domain-server-sequence`.
struct GTID: Equatable, Hashable {
    var domain: UInt32
    var server: UInt32
    var sequence: UInt64

    var description: String { "\(domain)-\(server)-\(sequence)" }
}

/// The columns a TABLE_MAP event announces for the table id that row events then refer to.
struct BinlogTableMap: Equatable {
    var id: UInt64
    var table: TableID
    /// MYSQL_TYPE_* codes, one per column.
    var types: [UInt8]
    /// Each column's type metadata (lengths, precision and scale, fractional digits), as the row decoder needs it.
    var metadata: [UInt16]
    /// What `binlog_row_metadata=FULL` adds (MariaDB 10.5+, MySQL 8.0.1+); nil when the server does not send it.
    var names: [String]? = nil
    /// Per column: unsigned (numeric columns), binary character set (string columns), enum or set labels.
    var unsigned: [Bool] = []
    var binary: [Bool] = []
    var labels: [Int: [String]] = [:]
}

/// The rows of a WRITE/UPDATE/DELETE_ROWS event, still encoded: they are decoded against the table map.
struct BinlogRows: Equatable {
    enum Kind: Equatable { case write, update, delete }
    var kind: Kind
    var tableID: UInt64
    var columnCount: Int
    /// Which columns the (before) image holds; for updates `presentAfter` is the after image's.
    var present: [Bool]
    var presentAfter: [Bool]?
    var body: [UInt8]
}

/// One binlog event, as far as change capture cares.
enum BinlogEvent: Equatable {
    case rotate(file: String, position: UInt64)
    case formatDescription(serverVersion: String, checksumAlgorithm: UInt8)
    /// Starts a transaction (event group); a standalone group (DDL) has no closing XID.
    case gtid(GTID, standalone: Bool)
    case query(database: String, sql: String)
    case tableMap(BinlogTableMap)
    case rows(BinlogRows)
    /// Commits a transaction.
    case xid
    case heartbeat
    case other(type: UInt8)
}

/// Event type codes (MariaDB's and MySQL's log_event.h).
enum BinlogEventType {
    static let query: UInt8 = 2
    static let rotate: UInt8 = 4
    static let formatDescription: UInt8 = 15
    static let xid: UInt8 = 16
    static let tableMap: UInt8 = 19
    static let heartbeat: UInt8 = 27
    static let writeRowsV1: UInt8 = 23, updateRowsV1: UInt8 = 24, deleteRowsV1: UInt8 = 25
    static let writeRowsV2: UInt8 = 30, updateRowsV2: UInt8 = 31, deleteRowsV2: UInt8 = 32
    static let mariaGTID: UInt8 = 162
    /// MariaDB's compressed events (log_bin_compress).
    static let compressed: ClosedRange<UInt8> = 165...171
}

/// Decodes binlog events from their bytes. Pure; it only remembers the checksum algorithm the format
/// description announced.
struct BinlogEventDecoder {
    /// Bytes of checksum at the end of each event (4 with CRC32, the default since MySQL 5.6).
    private(set) var checksumSize = 4

    mutating func decode(_ bytes: [UInt8]) throws -> (BinlogEventHeader, BinlogEvent) {
        var header = BinlogCursor(bytes)
        let head = BinlogEventHeader(timestamp: UInt32(try header.littleEndian(4)), type: try header.uint8(),
                                     serverID: UInt32(try header.littleEndian(4)), size: UInt32(try header.littleEndian(4)),
                                     nextPosition: UInt32(try header.littleEndian(4)), flags: UInt16(try header.littleEndian(2)))
        if head.type == BinlogEventType.formatDescription {
            // Version (2), server version (50), timestamp (4), header length (1), post-header lengths,
            // then the checksum algorithm (1) and the checksum (4).
            var body = BinlogCursor(bytes, from: BinlogEventHeader.size)
            _ = try body.littleEndian(2)
            let version = String(decoding: try body.take(50).prefix { $0 != 0 }, as: UTF8.self)
            guard bytes.count >= BinlogEventHeader.size + 57 + 5 else {
                return (head, .formatDescription(serverVersion: version, checksumAlgorithm: 0))
            }
            let algorithm = bytes[bytes.count - 5]
            checksumSize = algorithm == 0 ? 0 : 4
            return (head, .formatDescription(serverVersion: version, checksumAlgorithm: algorithm))
        }
        var body = BinlogCursor(bytes, from: BinlogEventHeader.size, end: max(BinlogEventHeader.size, bytes.count - checksumSize))
        return (head, try decodeBody(head.type, &body))
    }

    private func decodeBody(_ type: UInt8, _ body: inout BinlogCursor) throws -> BinlogEvent {
        switch type {
        case BinlogEventType.rotate:
            let position = try body.littleEndian(8)
            return .rotate(file: try body.string(body.remaining), position: position)
        case BinlogEventType.mariaGTID:
            let sequence = try body.littleEndian(8)
            let domain = UInt32(try body.littleEndian(4))
            let flags = try body.uint8()
            return .gtid(GTID(domain: domain, server: 0, sequence: sequence), standalone: flags & 0x01 != 0)
        case BinlogEventType.query:
            _ = try body.littleEndian(4) // thread id
            _ = try body.littleEndian(4) // execution time
            let databaseLength = Int(try body.uint8())
            _ = try body.littleEndian(2) // error code
            let statusLength = Int(try body.littleEndian(2))
            try body.skip(statusLength)
            let database = try body.string(databaseLength)
            try body.skip(1)
            return .query(database: database, sql: try body.string(body.remaining))
        case BinlogEventType.tableMap:
            return .tableMap(try Self.tableMap(&body))
        case BinlogEventType.writeRowsV1, BinlogEventType.writeRowsV2:
            return .rows(try Self.rows(.write, version2: type == BinlogEventType.writeRowsV2, &body))
        case BinlogEventType.updateRowsV1, BinlogEventType.updateRowsV2:
            return .rows(try Self.rows(.update, version2: type == BinlogEventType.updateRowsV2, &body))
        case BinlogEventType.deleteRowsV1, BinlogEventType.deleteRowsV2:
            return .rows(try Self.rows(.delete, version2: type == BinlogEventType.deleteRowsV2, &body))
        case BinlogEventType.xid:
            return .xid
        case BinlogEventType.heartbeat:
            return .heartbeat
        case BinlogEventType.compressed:
            throw FerryError(.unsupportedType, "the binlog holds compressed events (log_bin_compress=ON), which Ferry does not read; turn log_bin_compress off")
        default:
            return .other(type: type)
        }
    }

    private static func tableMap(_ body: inout BinlogCursor) throws -> BinlogTableMap {
        let id = try body.littleEndian(6)
        _ = try body.littleEndian(2) // flags
        let database = try body.string(Int(try body.uint8()))
        try body.skip(1)
        let table = try body.string(Int(try body.uint8()))
        try body.skip(1)
        let count = Int(try body.lengthEncoded())
        let types = Array(try body.take(count))
        let metadataLength = Int(try body.lengthEncoded())
        var metadata = BinlogCursor(Array(try body.take(metadataLength)))
        var values: [UInt16] = []
        for type in types {
            switch type {
            case BinlogColumnType.float, BinlogColumnType.double, BinlogColumnType.blob, BinlogColumnType.geometry,
                 BinlogColumnType.json, BinlogColumnType.time2, BinlogColumnType.datetime2, BinlogColumnType.timestamp2:
                values.append(UInt16(try metadata.uint8()))
            case BinlogColumnType.varchar, BinlogColumnType.varString, BinlogColumnType.bit:
                values.append(UInt16(try metadata.littleEndian(2)))
            case BinlogColumnType.newDecimal, BinlogColumnType.string, BinlogColumnType.enumeration, BinlogColumnType.set:
                // Two bytes, first byte high: precision/scale, real type/length.
                values.append(UInt16(try metadata.bigEndian(2)))
            default:
                values.append(0)
            }
        }
        try body.skip((count + 7) / 8) // nullable columns
        var map = BinlogTableMap(id: id, table: TableID(schema: database, name: table), types: types, metadata: values)
        try BinlogOptionalMetadata.read(&body, into: &map)
        return map
    }

    private static func rows(_ kind: BinlogRows.Kind, version2: Bool, _ body: inout BinlogCursor) throws -> BinlogRows {
        let tableID = try body.littleEndian(6)
        _ = try body.littleEndian(2) // flags
        if version2 {
            let extra = Int(try body.littleEndian(2))
            try body.skip(max(0, extra - 2))
        }
        let count = Int(try body.lengthEncoded())
        let present = try bitmap(&body, count)
        let after = kind == .update ? try bitmap(&body, count) : nil
        return BinlogRows(kind: kind, tableID: tableID, columnCount: count, present: present, presentAfter: after,
                          body: Array(try body.rest()))
    }

    /// The table id of a rows event, read from its first bytes; nil for other events.
    static func rowsTableID(_ event: UnsafeBufferPointer<UInt8>) -> UInt64? {
        guard event.count >= BinlogEventHeader.size + 6 else { return nil }
        switch event[4] {
        case BinlogEventType.writeRowsV1...BinlogEventType.deleteRowsV1, BinlogEventType.writeRowsV2...BinlogEventType.deleteRowsV2:
            return tableID(event)
        default:
            return nil
        }
    }

    /// The table id and name of a TABLE_MAP event, read without decoding its columns; nil for other events.
    static func tableMapName(_ event: UnsafeBufferPointer<UInt8>) -> (id: UInt64, table: TableID)? {
        let start = BinlogEventHeader.size + 8
        guard event.count > start, event[4] == BinlogEventType.tableMap else { return nil }
        let databaseLength = Int(event[start])
        let tableStart = start + 1 + databaseLength + 1
        guard event.count > tableStart else { return nil }
        let tableLength = Int(event[tableStart])
        guard event.count >= tableStart + 1 + tableLength else { return nil }
        let database = String(decoding: UnsafeBufferPointer(rebasing: event[start + 1..<start + 1 + databaseLength]), as: UTF8.self)
        let table = String(decoding: UnsafeBufferPointer(rebasing: event[tableStart + 1..<tableStart + 1 + tableLength]), as: UTF8.self)
        return (tableID(event), TableID(schema: database, name: table))
    }

    private static func tableID(_ event: UnsafeBufferPointer<UInt8>) -> UInt64 {
        var id: UInt64 = 0
        for index in (BinlogEventHeader.size..<BinlogEventHeader.size + 6).reversed() { id = id << 8 | UInt64(event[index]) }
        return id
    }

    static func bitmap(_ body: inout BinlogCursor, _ count: Int) throws -> [Bool] {
        let bytes = Array(try body.take((count + 7) / 8))
        return (0..<count).map { bytes[$0 / 8] & (1 << UInt8($0 % 8)) != 0 }
    }
}
