import FerryCore

/// The optional metadata at the end of a TABLE_MAP event (`binlog_row_metadata=FULL`): column names,
/// signedness, character sets and enum/set labels, as type-length-value fields.
enum BinlogOptionalMetadata {
    static let signedness: UInt8 = 1, defaultCharset: UInt8 = 2, columnCharset: UInt8 = 3, columnName: UInt8 = 4
    static let setValues: UInt8 = 5, enumValues: UInt8 = 6
    /// The collation id of the binary character set.
    static let binaryCollation: UInt64 = 63

    static func read(_ body: inout BinlogCursor, into map: inout BinlogTableMap) throws {
        let realTypes = map.types.enumerated().map { index, type in realType(type, map.metadata[index]) }
        let numeric = realTypes.indices.filter { isNumeric(realTypes[$0]) }
        let character = realTypes.indices.filter { isCharacter(realTypes[$0]) }
        map.unsigned = Array(repeating: false, count: map.types.count)
        map.binary = Array(repeating: false, count: map.types.count)
        while body.remaining > 0 {
            let kind = try body.uint8()
            var field = BinlogCursor(Array(try body.take(Int(try body.lengthEncoded()))))
            switch kind {
            case signedness:
                let bits = Array(try field.rest())
                for (n, column) in numeric.enumerated() where n / 8 < bits.count {
                    map.unsigned[column] = bits[n / 8] & (0x80 >> UInt8(n % 8)) != 0
                }
            case defaultCharset:
                let fallback = try field.lengthEncoded()
                for column in character { map.binary[column] = fallback == binaryCollation }
                while field.remaining > 0 {
                    let n = Int(try field.lengthEncoded()), collation = try field.lengthEncoded()
                    if n < character.count { map.binary[character[n]] = collation == binaryCollation }
                }
            case columnCharset:
                for column in character where field.remaining > 0 {
                    map.binary[column] = try field.lengthEncoded() == binaryCollation
                }
            case columnName:
                var names: [String] = []
                while field.remaining > 0 { names.append(try field.string(Int(try field.lengthEncoded()))) }
                map.names = names.count == map.types.count ? names : nil
            case setValues, enumValues:
                let wanted = kind == setValues ? BinlogColumnType.set : BinlogColumnType.enumeration
                for column in realTypes.indices where realTypes[column] == wanted && field.remaining > 0 {
                    var labels: [String] = []
                    for _ in 0..<Int(try field.lengthEncoded()) { labels.append(try field.string(Int(try field.lengthEncoded()))) }
                    map.labels[column] = labels
                }
            default:
                break
            }
        }
    }

    /// ENUM and SET columns are logged as STRING with their real type in the metadata's first byte.
    static func realType(_ type: UInt8, _ metadata: UInt16) -> UInt8 {
        guard type == BinlogColumnType.string else { return type }
        let high = UInt8(metadata >> 8)
        return high & 0x30 == 0x30 ? high : high | 0x30
    }

    static func isNumeric(_ type: UInt8) -> Bool {
        [BinlogColumnType.tiny, BinlogColumnType.short, BinlogColumnType.int24, BinlogColumnType.long, BinlogColumnType.longlong,
         BinlogColumnType.float, BinlogColumnType.double, BinlogColumnType.newDecimal, BinlogColumnType.decimal].contains(type)
    }

    static func isCharacter(_ type: UInt8) -> Bool {
        [BinlogColumnType.string, BinlogColumnType.varString, BinlogColumnType.varchar, BinlogColumnType.blob].contains(type)
    }

    /// The neutral type of a column known only from the table map (one added while streaming).
    static func columnType(of map: BinlogTableMap, _ column: Int) -> (type: ColumnType, native: String) {
        let metadata = map.metadata[column], unsigned = column < map.unsigned.count && map.unsigned[column]
        let binary = column < map.binary.count && map.binary[column]
        let suffix = unsigned ? " unsigned" : ""
        switch realType(map.types[column], metadata) {
        case BinlogColumnType.tiny: return (.integer(bytes: 1, unsigned: unsigned), "tinyint" + suffix)
        case BinlogColumnType.short: return (.integer(bytes: 2, unsigned: unsigned), "smallint" + suffix)
        case BinlogColumnType.int24: return (.integer(bytes: 3, unsigned: unsigned), "mediumint" + suffix)
        case BinlogColumnType.long: return (.integer(bytes: 4, unsigned: unsigned), "int" + suffix)
        case BinlogColumnType.longlong: return (.integer(bytes: 8, unsigned: unsigned), "bigint" + suffix)
        case BinlogColumnType.float: return (.float32, "float")
        case BinlogColumnType.double: return (.float64, "double")
        case BinlogColumnType.newDecimal:
            let precision = Int(metadata >> 8), scale = Int(metadata & 0xff)
            return (.decimal(precision: precision, scale: scale), "decimal(\(precision),\(scale))")
        case BinlogColumnType.varchar, BinlogColumnType.varString:
            return binary ? (.varbinary(length: Int(metadata)), "varbinary(\(metadata))") : (.text, "longtext")
        case BinlogColumnType.blob: return binary ? (.blob, "longblob") : (.text, "longtext")
        case BinlogColumnType.string:
            let length = Int(metadata & 0xff)
            return binary ? (.binary(length: length), "binary(\(length))") : (.text, "longtext")
        case BinlogColumnType.enumeration:
            let labels = map.labels[column] ?? []
            return (.enumeration(values: labels), "enum(\(labels.map(MySQLConnection.literal).joined(separator: ",")))")
        case BinlogColumnType.set:
            let labels = map.labels[column] ?? []
            return (.set(values: labels), "set(\(labels.map(MySQLConnection.literal).joined(separator: ",")))")
        case BinlogColumnType.date: return (.date, "date")
        case BinlogColumnType.time2: return (.time(precision: Int(metadata)), "time(\(metadata))")
        case BinlogColumnType.datetime2: return (.timestamp(precision: Int(metadata)), "datetime(\(metadata))")
        case BinlogColumnType.timestamp2: return (.timestampTZ(precision: Int(metadata)), "timestamp(\(metadata))")
        case BinlogColumnType.year: return (.year, "year")
        case BinlogColumnType.bit:
            let bits = Int(metadata >> 8) * 8 + Int(metadata & 0xff)
            return (.bit(length: bits, varying: false), "bit(\(bits))")
        default: return (.text, "longtext")
        }
    }
}
