import Foundation

/// One message of PostgreSQL's `pgoutput` logical decoding plugin (protocol version 1).
public enum PGOutputMessage: Equatable, Sendable {
    case begin(finalLSN: LSN, commitTime: Date, xid: UInt32)
    case commit(commitLSN: LSN, endLSN: LSN, commitTime: Date)
    case relation(PGRelation)
    case insert(relation: UInt32, new: [PGColumnValue])
    /// `old` is the old key (identity DEFAULT/INDEX, only when the key changed) or the whole old row
    /// (identity FULL); nil when neither was sent.
    case update(relation: UInt32, old: [PGColumnValue]?, new: [PGColumnValue])
    case delete(relation: UInt32, old: [PGColumnValue])
    case truncate(relations: [UInt32], cascade: Bool, restartIdentity: Bool)
    /// A message written by `pg_logical_emit_message` (sent when the stream asks for `messages`).
    case message(transactional: Bool, lsn: LSN, prefix: String, content: [UInt8])
    /// Origin and type records, which Ferry does not act on.
    case other(tag: UInt8)
}

/// A table as pgoutput describes it before its first change in a session (and again after DDL).
public struct PGRelation: Equatable, Sendable {
    public var id: UInt32
    public var schema: String
    public var name: String
    /// `d` default (primary key), `n` nothing, `f` full, `i` index.
    public var replicaIdentity: UInt8
    public var columns: [PGRelationColumn]
}

public struct PGRelationColumn: Equatable, Sendable {
    public var name: String
    public var typeOID: UInt32
    public var typeModifier: Int32
    /// Whether the column is part of the replica identity (the key).
    public var isKey: Bool
}

/// One column of a tuple in a change.
public enum PGColumnValue: Equatable, Sendable {
    case null
    /// A TOASTed value that did not change: the message does not carry it and the target keeps its own.
    case unchangedToast
    /// The value in PostgreSQL's text form.
    case text(String)
}

/// Decodes pgoutput messages. Pure: bytes in, messages out.
public enum PGOutputDecoder {
    /// PostgreSQL timestamps count microseconds from 2000-01-01 00:00:00 UTC.
    static let postgresEpoch = Date(timeIntervalSince1970: 946_684_800)

    public static func decode(_ bytes: [UInt8]) throws -> PGOutputMessage {
        var reader = ByteReader(bytes)
        let tag = try reader.uint8()
        switch tag {
        case UInt8(ascii: "B"):
            let lsn = LSN(try reader.uint64())
            let time = try reader.timestamp()
            return .begin(finalLSN: lsn, commitTime: time, xid: try reader.uint32())
        case UInt8(ascii: "C"):
            _ = try reader.uint8()
            let commit = LSN(try reader.uint64())
            let end = LSN(try reader.uint64())
            return .commit(commitLSN: commit, endLSN: end, commitTime: try reader.timestamp())
        case UInt8(ascii: "R"):
            let id = try reader.uint32()
            let schema = try reader.cString()
            let name = try reader.cString()
            let identity = try reader.uint8()
            let count = Int(try reader.uint16())
            var columns: [PGRelationColumn] = []
            for _ in 0..<count {
                let flags = try reader.uint8()
                let column = try reader.cString()
                let oid = try reader.uint32()
                let modifier = Int32(bitPattern: try reader.uint32())
                columns.append(PGRelationColumn(name: column, typeOID: oid, typeModifier: modifier, isKey: flags & 1 == 1))
            }
            return .relation(PGRelation(id: id, schema: schema, name: name, replicaIdentity: identity, columns: columns))
        case UInt8(ascii: "I"):
            let relation = try reader.uint32()
            try reader.expect("N")
            return .insert(relation: relation, new: try reader.tuple())
        case UInt8(ascii: "U"):
            let relation = try reader.uint32()
            var old: [PGColumnValue]?
            var marker = try reader.uint8()
            if marker == UInt8(ascii: "K") || marker == UInt8(ascii: "O") {
                old = try reader.tuple()
                marker = try reader.uint8()
            }
            guard marker == UInt8(ascii: "N") else { throw PGOutputError.malformed("update without a new tuple") }
            return .update(relation: relation, old: old, new: try reader.tuple())
        case UInt8(ascii: "D"):
            let relation = try reader.uint32()
            let marker = try reader.uint8()
            guard marker == UInt8(ascii: "K") || marker == UInt8(ascii: "O") else { throw PGOutputError.malformed("delete without an old tuple") }
            return .delete(relation: relation, old: try reader.tuple())
        case UInt8(ascii: "T"):
            let count = Int(try reader.uint32())
            let options = try reader.uint8()
            let relations = try (0..<count).map { _ in try reader.uint32() }
            return .truncate(relations: relations, cascade: options & 1 != 0, restartIdentity: options & 2 != 0)
        case UInt8(ascii: "M"):
            let flags = try reader.uint8()
            let lsn = LSN(try reader.uint64())
            let prefix = try reader.cString()
            let length = Int(try reader.uint32())
            return .message(transactional: flags & 1 == 1, lsn: lsn, prefix: prefix, content: Array(try reader.bytes(length)))
        case UInt8(ascii: "O"), UInt8(ascii: "Y"):
            return .other(tag: tag)
        default:
            throw PGOutputError.malformed("unknown message '\(Character(UnicodeScalar(tag)))'")
        }
    }
}

public enum PGOutputError: Error, Equatable, CustomStringConvertible {
    case malformed(String)

    public var description: String {
        switch self {
        case let .malformed(reason): return "malformed pgoutput message: \(reason)"
        }
    }
}

/// Reads big-endian fields from a message.
struct ByteReader {
    private let bytes: [UInt8]
    private var offset = 0

    init(_ bytes: [UInt8]) {
        self.bytes = bytes
    }

    var remaining: Int { bytes.count - offset }

    mutating func uint8() throws -> UInt8 {
        guard offset < bytes.count else { throw PGOutputError.malformed("message ends early") }
        defer { offset += 1 }
        return bytes[offset]
    }

    mutating func uint16() throws -> UInt16 { UInt16(try integer(2)) }
    mutating func uint32() throws -> UInt32 { UInt32(try integer(4)) }
    mutating func uint64() throws -> UInt64 { try integer(8) }

    private mutating func integer(_ size: Int) throws -> UInt64 {
        guard remaining >= size else { throw PGOutputError.malformed("message ends early") }
        var value: UInt64 = 0
        for i in 0..<size { value = value << 8 | UInt64(bytes[offset + i]) }
        offset += size
        return value
    }

    mutating func timestamp() throws -> Date {
        let micros = Int64(bitPattern: try uint64())
        return PGOutputDecoder.postgresEpoch.addingTimeInterval(Double(micros) / 1_000_000)
    }

    mutating func cString() throws -> String {
        guard let end = bytes[offset...].firstIndex(of: 0) else { throw PGOutputError.malformed("unterminated string") }
        defer { offset = end + 1 }
        return String(decoding: bytes[offset..<end], as: UTF8.self)
    }

    mutating func bytes(_ count: Int) throws -> ArraySlice<UInt8> {
        guard count >= 0, remaining >= count else { throw PGOutputError.malformed("message ends early") }
        defer { offset += count }
        return bytes[offset..<offset + count]
    }

    mutating func expect(_ tag: Character) throws {
        guard try uint8() == tag.asciiValue else { throw PGOutputError.malformed("expected '\(tag)'") }
    }

    mutating func tuple() throws -> [PGColumnValue] {
        let count = Int(try uint16())
        var values: [PGColumnValue] = []
        values.reserveCapacity(count)
        for _ in 0..<count {
            switch try uint8() {
            case UInt8(ascii: "n"): values.append(.null)
            case UInt8(ascii: "u"): values.append(.unchangedToast)
            case UInt8(ascii: "t"):
                let length = Int(try uint32())
                values.append(.text(String(decoding: try bytes(length), as: UTF8.self)))
            case let kind: throw PGOutputError.malformed("unknown tuple column kind \(kind)")
            }
        }
        return values
    }
}
