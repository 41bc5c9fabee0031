import FerryCore
import Foundation

/// MYSQL_TYPE_* codes as they appear in TABLE_MAP events.
enum BinlogColumnType {
    static let decimal: UInt8 = 0, tiny: UInt8 = 1, short: UInt8 = 2, long: UInt8 = 3, float: UInt8 = 4, double: UInt8 = 5
    static let null: UInt8 = 6, timestamp: UInt8 = 7, longlong: UInt8 = 8, int24: UInt8 = 9, date: UInt8 = 10, time: UInt8 = 11
    static let datetime: UInt8 = 12, year: UInt8 = 13, varchar: UInt8 = 15, bit: UInt8 = 16
    static let timestamp2: UInt8 = 17, datetime2: UInt8 = 18, time2: UInt8 = 19
    static let json: UInt8 = 245, newDecimal: UInt8 = 246, enumeration: UInt8 = 247, set: UInt8 = 248
    static let blob: UInt8 = 252, varString: UInt8 = 253, string: UInt8 = 254, geometry: UInt8 = 255
}

/// Decodes one column value of a binlog row image into the ``Value`` the text protocol would have given
/// for it (so that changes and the full load agree): numbers as numbers, decimals and temporal values
/// as MySQL's text, UTC timestamps with `+00`, enum and set labels, bits as `0`/`1` text.
enum BinlogValueDecoder {
    static func decode(_ cursor: inout BinlogCursor, type: UInt8, metadata: UInt16, as column: ColumnType) throws -> Value {
        switch type {
        case BinlogColumnType.tiny: return integer(try cursor.littleEndian(1), bytes: 1, column)
        case BinlogColumnType.short: return integer(try cursor.littleEndian(2), bytes: 2, column)
        case BinlogColumnType.int24: return integer(try cursor.littleEndian(3), bytes: 3, column)
        case BinlogColumnType.long: return integer(try cursor.littleEndian(4), bytes: 4, column)
        case BinlogColumnType.longlong: return integer(try cursor.littleEndian(8), bytes: 8, column)
        case BinlogColumnType.float:
            let value = Float(bitPattern: UInt32(try cursor.littleEndian(4)))
            // The text protocol prints a FLOAT with its shortest digits; so does Float's description.
            return .double(Double("\(value)") ?? Double(value))
        case BinlogColumnType.double:
            return .double(Double(bitPattern: try cursor.littleEndian(8)))
        case BinlogColumnType.year:
            let year = try cursor.littleEndian(1)
            return .int(year == 0 ? 0 : 1900 + Int64(year))
        case BinlogColumnType.newDecimal:
            return .text(try decimal(&cursor, precision: Int(metadata >> 8), scale: Int(metadata & 0xff)))
        case BinlogColumnType.date:
            let packed = try cursor.littleEndian(3)
            return .text(String(format: "%04d-%02d-%02d", Int(packed >> 9), Int(packed >> 5 & 15), Int(packed & 31)))
        case BinlogColumnType.time2:
            return .text(try time(&cursor, digits: Int(metadata)))
        case BinlogColumnType.datetime2:
            return .text(try datetime(&cursor, digits: Int(metadata)))
        case BinlogColumnType.timestamp2:
            return .text(try timestamp(&cursor, digits: Int(metadata)))
        case BinlogColumnType.varchar, BinlogColumnType.varString:
            let length = Int(try cursor.littleEndian(metadata > 255 ? 2 : 1))
            return string(try cursor.take(length), column)
        case BinlogColumnType.blob:
            let length = Int(try cursor.littleEndian(Int(metadata)))
            return string(try cursor.take(length), column)
        case BinlogColumnType.bit:
            let count = Int(metadata >> 8) + (metadata & 0xff > 0 ? 1 : 0)
            let bits = Array(try cursor.take(count)).map { byte in
                String(repeating: "0", count: 8 - String(byte, radix: 2).count) + String(byte, radix: 2)
            }.joined()
            guard case let .bit(length, _) = column else { return .text(bits) }
            return .text(String(bits.suffix(length)))
        case BinlogColumnType.string, BinlogColumnType.enumeration, BinlogColumnType.set:
            return try fixedString(&cursor, metadata: metadata, column)
        default:
            throw FerryError(.unsupportedType, "binlog column type \(type) (\(column)) cannot be read from row events; the MySQL 5.5 temporal formats, JSON in MySQL's binary form and spatial types are not supported in change data capture")
        }
    }

    private static func integer(_ raw: UInt64, bytes: Int, _ column: ColumnType) -> Value {
        let unsigned: Bool
        switch column {
        case .boolean: return .bool(raw != 0)
        case let .integer(_, isUnsigned): unsigned = isUnsigned
        default: unsigned = false
        }
        if unsigned { return raw > UInt64(Int64.max) ? .uint(raw) : .int(Int64(raw)) }
        let shift = UInt64(64 - 8 * bytes)
        return .int(Int64(bitPattern: raw << shift) >> Int64(shift))
    }

    private static func string(_ bytes: ArraySlice<UInt8>, _ column: ColumnType) -> Value {
        switch column {
        case .binary, .varbinary, .blob: return .bytes(Array(bytes))
        default: return .text(String(decoding: bytes, as: UTF8.self))
        }
    }

    /// CHAR, BINARY, ENUM and SET share type 254; the metadata's first byte holds the real type, and
    /// lengths over 255 borrow two of its bits.
    private static func fixedString(_ cursor: inout BinlogCursor, metadata: UInt16, _ column: ColumnType) throws -> Value {
        let high = UInt8(metadata >> 8), low = Int(metadata & 0xff)
        let realType = high & 0x30 == 0x30 ? high : high | 0x30
        let length = high & 0x30 == 0x30 ? low : Int((high & 0x30) ^ 0x30) << 4 | low
        switch realType {
        case BinlogColumnType.enumeration:
            let index = Int(try cursor.littleEndian(low))
            guard case let .enumeration(labels) = column else { return .text(String(index)) }
            return .text(index >= 1 && index <= labels.count ? labels[index - 1] : "")
        case BinlogColumnType.set:
            let mask = try cursor.littleEndian(low)
            guard case let .set(labels) = column else { return .text(String(mask)) }
            return .text(labels.enumerated().filter { mask & (1 << UInt64($0.offset)) != 0 }.map(\.element).joined(separator: ","))
        default:
            let count = Int(try cursor.littleEndian(length > 255 ? 2 : 1))
            let bytes = try cursor.take(count)
            // Fixed-size binary values (BINARY, MariaDB's UUID) lose their trailing zero bytes in the binlog.
            func padded(_ size: Int) -> [UInt8] { Array(bytes) + [UInt8](repeating: 0, count: max(0, size - count)) }
            switch column {
            case let .binary(size): return .bytes(padded(size))
            case .uuid: return .text(uuid(padded(16)))
            default:
                return string(bytes, column)
            }
        }
    }

    /// A UUID's 16 bytes in its text form (the binlog holds them in reading order, whatever the version).
    static func uuid(_ bytes: [UInt8]) -> String {
        let hex = bytes.map { String(format: "%02x", $0) }.joined()
        var text = ""
        for (index, character) in hex.enumerated() {
            if [8, 12, 16, 20].contains(index) { text.append("-") }
            text.append(character)
        }
        return text
    }

    /// MySQL's packed binary DECIMAL: groups of 9 digits in 4 bytes (fewer bytes for a partial group),
    /// big-endian, the sign in the inverted top bit, negative numbers with every bit inverted.
    static func decimal(_ cursor: inout BinlogCursor, precision: Int, scale: Int) throws -> String {
        let groupBytes = [0, 1, 1, 2, 2, 3, 3, 4, 4, 4]
        let integerDigits = precision - scale
        let (wholeGroups, leadingDigits) = (integerDigits / 9, integerDigits % 9)
        let (fractionGroups, trailingDigits) = (scale / 9, scale % 9)
        let size = wholeGroups * 4 + groupBytes[leadingDigits] + fractionGroups * 4 + groupBytes[trailingDigits]
        var bytes = Array(try cursor.take(size))
        guard !bytes.isEmpty else { return "0" }
        let negative = bytes[0] & 0x80 == 0
        bytes[0] ^= 0x80
        if negative { bytes = bytes.map { ~$0 } }
        var reader = BinlogCursor(bytes)
        var whole = ""
        if leadingDigits > 0 { whole += String(try reader.bigEndian(groupBytes[leadingDigits])) }
        for _ in 0..<wholeGroups { whole += pad(try reader.bigEndian(4), 9) }
        whole = String(whole.drop { $0 == "0" })
        if whole.isEmpty { whole = "0" }
        var fraction = ""
        for _ in 0..<fractionGroups { fraction += pad(try reader.bigEndian(4), 9) }
        if trailingDigits > 0 { fraction += pad(try reader.bigEndian(groupBytes[trailingDigits]), trailingDigits) }
        return (negative ? "-" : "") + whole + (scale > 0 ? "." + fraction : "")
    }

    /// Fractional seconds as stored after TIME2, DATETIME2 and TIMESTAMP2: (digits + 1) / 2 bytes, big-endian.
    private static func microseconds(_ cursor: inout BinlogCursor, digits: Int) throws -> Int64 {
        switch digits {
        case 1, 2: return Int64(try cursor.bigEndian(1)) * 10_000
        case 3, 4: return Int64(try cursor.bigEndian(2)) * 100
        case 5, 6: return Int64(try cursor.bigEndian(3))
        default: return 0
        }
    }

    private static func fraction(_ micros: Int64, digits: Int) -> String {
        guard digits > 0 else { return "" }
        return "." + String(pad(UInt64(micros), 6).prefix(min(digits, 6)))
    }

    static func datetime(_ cursor: inout BinlogCursor, digits: Int) throws -> String {
        let packed = Int64(try cursor.bigEndian(5)) - 0x80_0000_0000
        let micros = try microseconds(&cursor, digits: digits)
        let ymd = packed >> 17, hms = packed & (1 << 17 - 1)
        let yearMonth = ymd >> 5
        return String(format: "%04d-%02d-%02d %02d:%02d:%02d", Int(yearMonth / 13), Int(yearMonth % 13), Int(ymd & 31),
                      Int(hms >> 12), Int(hms >> 6 & 63), Int(hms & 63)) + fraction(micros, digits: digits)
    }

    static func time(_ cursor: inout BinlogCursor, digits: Int) throws -> String {
        // Packed as (hours << 12 | minutes << 6 | seconds) << 24 | microseconds, offset to be unsigned.
        var packed: Int64
        switch digits {
        case 5, 6:
            packed = Int64(try cursor.bigEndian(6)) - 0x8000_0000_0000
        default:
            var whole = Int64(try cursor.bigEndian(3)) - 0x80_0000
            var part: Int64 = 0
            if digits > 0 {
                let width: Int64 = digits <= 2 ? 0x100 : 0x10000
                part = Int64(try cursor.bigEndian(digits <= 2 ? 1 : 2))
                if whole < 0, part != 0 { whole += 1; part -= width }
                part *= digits <= 2 ? 10_000 : 100
            }
            packed = whole << 24 + part
        }
        let negative = packed < 0
        if negative { packed = -packed }
        let hms = packed >> 24, micros = packed & 0xff_ffff
        return (negative ? "-" : "") + String(format: "%02d:%02d:%02d", Int(hms >> 12 & 0x3ff), Int(hms >> 6 & 63), Int(hms & 63))
            + fraction(micros, digits: digits)
    }

    static func timestamp(_ cursor: inout BinlogCursor, digits: Int) throws -> String {
        let seconds = Int64(try cursor.bigEndian(4))
        let micros = try microseconds(&cursor, digits: digits)
        if seconds == 0, micros == 0 { return "0000-00-00 00:00:00" + fraction(0, digits: digits) + "+00" }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: Date(timeIntervalSince1970: Double(seconds)))
        return String(format: "%04d-%02d-%02d %02d:%02d:%02d", c.year!, c.month!, c.day!, c.hour!, c.minute!, c.second!)
            + fraction(micros, digits: digits) + "+00"
    }

    private static func pad(_ value: UInt64, _ width: Int) -> String {
        let text = String(value)
        return String(repeating: "0", count: max(0, width - text.count)) + text
    }
}
