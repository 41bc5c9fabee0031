import FerryCore

/// Reads the little-endian integers, length-encoded integers and strings of binlog events, and the
/// big-endian fields of packed temporal and decimal values. Throws at the end of the bytes instead of
/// reading past it.
struct BinlogCursor {
    let bytes: [UInt8]
    private(set) var offset: Int
    /// Where the readable bytes end (before the event's checksum).
    let end: Int

    init(_ bytes: [UInt8], from offset: Int = 0, end: Int? = nil) {
        self.bytes = bytes
        self.offset = offset
        self.end = end ?? bytes.count
    }

    var remaining: Int { end - offset }

    mutating func take(_ count: Int) throws -> ArraySlice<UInt8> {
        guard count >= 0, count <= remaining else {
            throw FerryError(.database, "binlog event ends early: \(count) bytes wanted at offset \(offset), \(remaining) left")
        }
        defer { offset += count }
        return bytes[offset..<offset + count]
    }

    mutating func skip(_ count: Int) throws { _ = try take(count) }

    mutating func uint8() throws -> UInt8 {
        guard remaining >= 1 else { _ = try take(1); return 0 }
        defer { offset += 1 }
        return bytes[offset]
    }

    /// An unsigned little-endian integer of `count` bytes (1 to 8).
    mutating func littleEndian(_ count: Int) throws -> UInt64 {
        guard count <= remaining else { _ = try take(count); return 0 }
        var value: UInt64 = 0
        var index = count - 1
        while index >= 0 {
            value = value << 8 | UInt64(bytes[offset + index])
            index -= 1
        }
        offset += count
        return value
    }

    /// An unsigned big-endian integer of `count` bytes (1 to 8).
    mutating func bigEndian(_ count: Int) throws -> UInt64 {
        guard count <= remaining else { _ = try take(count); return 0 }
        var value: UInt64 = 0
        for index in offset..<offset + count { value = value << 8 | UInt64(bytes[index]) }
        offset += count
        return value
    }

    /// A length-encoded integer (1, 3, 4 or 9 bytes).
    mutating func lengthEncoded() throws -> UInt64 {
        let first = try uint8()
        switch first {
        case 0xfc: return try littleEndian(2)
        case 0xfd: return try littleEndian(3)
        case 0xfe: return try littleEndian(8)
        default: return UInt64(first)
        }
    }

    mutating func string(_ count: Int) throws -> String {
        String(decoding: try take(count), as: UTF8.self)
    }

    /// The bytes up to the end of the event.
    mutating func rest() throws -> ArraySlice<UInt8> { try take(remaining) }
}
