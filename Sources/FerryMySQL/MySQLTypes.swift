import FerryCore

/// MySQL/MariaDB native types and the neutral ``ColumnType``s, in both directions.
enum MySQLTypes {
    /// The neutral type of a column from `information_schema.COLUMNS`.
    static func neutral(dataType: String, columnType: String, length: Int?, precision: Int?, scale: Int?,
                        fractionDigits: Int?, isJSON: Bool) -> ColumnType {
        let unsigned = columnType.contains("unsigned")
        switch dataType {
        case "tinyint": return columnType.hasPrefix("tinyint(1)") && !unsigned ? .boolean : .integer(bytes: 1, unsigned: unsigned)
        case "bool", "boolean": return .boolean
        case "smallint": return .integer(bytes: 2, unsigned: unsigned)
        case "mediumint": return .integer(bytes: 3, unsigned: unsigned)
        case "int", "integer": return .integer(bytes: 4, unsigned: unsigned)
        case "bigint": return .integer(bytes: 8, unsigned: unsigned)
        case "decimal", "numeric": return .decimal(precision: precision, scale: scale)
        case "float": return .float32
        case "double", "real", "double precision": return .float64
        case "char": return .char(length: length)
        case "varchar": return .varchar(length: length)
        case "tinytext", "text", "mediumtext", "longtext": return isJSON ? .json : .text
        case "json": return .json
        case "binary": return .binary(length: length ?? 1)
        case "varbinary": return .varbinary(length: length ?? 255)
        case "tinyblob", "blob", "mediumblob", "longblob": return .blob
        case "date": return .date
        case "time": return .time(precision: fractionDigits)
        case "datetime": return .timestamp(precision: fractionDigits)
        case "timestamp": return .timestampTZ(precision: fractionDigits)
        case "year": return .year
        case "enum": return .enumeration(values: labels(columnType))
        case "set": return .set(values: labels(columnType))
        case "bit": return .bit(length: precision ?? 1, varying: false)
        case "uuid": return .uuid
        default: return .other(name: columnType)
        }
    }

    /// Whether the column must be read through `ST_AsText` (spatial types travel as WKT text).
    static func isSpatial(_ dataType: String) -> Bool {
        ["geometry", "point", "linestring", "polygon", "multipoint", "multilinestring", "multipolygon",
         "geometrycollection"].contains(dataType)
    }

    /// The labels of `enum('a','b')` or `set('a','b')`.
    static func labels(_ columnType: String) -> [String] {
        guard let open = columnType.firstIndex(of: "("), let close = columnType.lastIndex(of: ")") else { return [] }
        var labels: [String] = []
        var current = ""
        var inQuote = false
        var chars = Array(columnType[columnType.index(after: open)..<close])[...]
        while let c = chars.popFirst() {
            if inQuote {
                if c == "'" {
                    if chars.first == "'" { chars.removeFirst(); current.append("'") } else { inQuote = false; labels.append(current); current = "" }
                } else if c == "\\", let next = chars.popFirst() {
                    current.append(next)
                } else {
                    current.append(c)
                }
            } else if c == "'" {
                inQuote = true
            }
        }
        return labels
    }

    /// The MySQL type for a column from another engine. `isKey` marks columns in a primary key or index,
    /// which MySQL cannot store as TEXT/BLOB; `keyColumns` is how many share that key's byte budget.
    static func ddl(for type: ColumnType, isKey: Bool, keyColumns: Int, mariaDB: Bool) -> String {
        let keyChars = max(64, 768 / max(1, keyColumns))
        switch type {
        case .boolean: return "tinyint(1)"
        case let .integer(bytes, unsigned):
            let base = ["1": "tinyint", "2": "smallint", "3": "mediumint", "4": "int"]["\(bytes)"] ?? "bigint"
            return unsigned ? "\(base) unsigned" : base
        case let .decimal(p, s):
            guard let p, p <= 65, (s ?? 0) <= 30 else { return "decimal(65,30)" }
            return "decimal(\(p),\(s ?? 0))"
        case .float32: return "float"
        case .float64: return "double"
        case let .char(n):
            let n = n ?? 1
            return n <= 255 ? "char(\(n))" : (isKey ? "varchar(\(min(n, keyChars)))" : "varchar(\(n))")
        case let .varchar(n):
            if let n, n <= (isKey ? keyChars : 16383) { return "varchar(\(n))" }
            return isKey ? "varchar(\(keyChars))" : "longtext"
        case .text, .other, .interval:
            if case .interval = type { return "varchar(255)" }
            return isKey ? "varchar(\(keyChars))" : "longtext"
        case let .binary(n): return n <= 255 ? "binary(\(n))" : "varbinary(\(n))"
        case let .varbinary(n): return n <= (isKey ? keyChars * 4 : 65532) ? "varbinary(\(n))" : (isKey ? "varbinary(\(keyChars * 4))" : "longblob")
        case .blob: return isKey ? "varbinary(\(keyChars * 4))" : "longblob"
        case .date: return "date"
        case let .time(p): return "time(\(min(p ?? 6, 6)))"
        case let .timestamp(p), let .timestampTZ(p): return "datetime(\(min(p ?? 6, 6)))"
        case .json: return isKey ? "varchar(\(keyChars))" : "json"
        case .uuid: return mariaDB ? "uuid" : "char(36)"
        case let .enumeration(values): return "enum(\(values.map(MySQLConnection.literal).joined(separator: ",")))"
        case let .set(values): return "set(\(values.map(MySQLConnection.literal).joined(separator: ",")))"
        case .array: return "json"
        case let .bit(n, varying): return !varying && n <= 64 ? "bit(\(n))" : "varchar(\(max(n, 1)))"
        case .year: return "year"
        }
    }

    /// A literal default from `information_schema.COLUMNS.COLUMN_DEFAULT` (MariaDB quotes string literals).
    /// A default the server computes: AUTO_INCREMENT, or an expression (MariaDB shows literals quoted and
    /// expressions bare; MySQL 8 marks expressions DEFAULT_GENERATED in EXTRA).
    static func generatedDefault(_ text: String?, extra: String, mariaDB: Bool) -> GeneratedDefault? {
        if extra.lowercased().contains("auto_increment") { return .counter(.init()) }
        guard let text, text != "NULL" else { return nil }
        let expression = mariaDB ? literalDefault(text, mariaDB: true) == nil : extra.contains("DEFAULT_GENERATED")
        return expression ? GeneratedDefault.recognise(text) : nil
    }

    static func literalDefault(_ text: String?, mariaDB: Bool) -> Value? {
        guard let text, text != "NULL" else { return nil }
        if text.hasPrefix("'"), text.hasSuffix("'"), text.count >= 2 {
            return .text(String(text.dropFirst().dropLast()).replacingOccurrences(of: "''", with: "'").replacingOccurrences(of: "\\\\", with: "\\"))
        }
        if Double(text) != nil { return .text(text) }
        if !mariaDB, !text.contains("(") { return .text(text) }
        return nil
    }
}

/// Converts MySQL text-protocol fields into ``Value``s.
enum MySQLValueCodec {
    static func decode(_ field: UnsafeBufferPointer<UInt8>?, as type: ColumnType) -> Value {
        guard let field else { return .null }
        switch type {
        case .boolean:
            return .bool(!(field.count == 1 && field[0] == UInt8(ascii: "0")))
        case let .integer(_, unsigned):
            let text = String(decoding: field, as: UTF8.self)
            if let v = Int64(text) { return .int(v) }
            if unsigned, let v = UInt64(text) { return .uint(v) }
            return .text(text)
        case .year:
            return Int64(String(decoding: field, as: UTF8.self)).map(Value.int) ?? .null
        case .float32, .float64:
            let text = String(decoding: field, as: UTF8.self)
            return Double(text).map(Value.double) ?? .text(text)
        case .binary, .varbinary, .blob:
            return .bytes(Array(field))
        case let .bit(length, _):
            var bits = ""
            for byte in field { bits += String(repeating: "0", count: 8 - String(byte, radix: 2).count) + String(byte, radix: 2) }
            return .text(String(bits.suffix(length)))
        case .timestampTZ:
            return .text(String(decoding: field, as: UTF8.self) + "+00")
        default:
            return .text(String(decoding: field, as: UTF8.self))
        }
    }
}
