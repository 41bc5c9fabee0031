import FerryCore

/// SQLite declared types and the neutral ``ColumnType``s, in both directions.
///
/// SQLite stores any value in any column, so a declared type says what the column means. Types whose
/// values must keep their exact text (decimals, JSON, bit strings) are declared with a `_TEXT` suffix,
/// which gives them TEXT affinity: SQLite's NUMERIC affinity would turn `12.50` into the real `12.5`.
enum SQLiteTypes {
    /// The neutral type of a declared type such as `VARCHAR(20)` or `DECIMAL_TEXT(12,2)`.
    static func neutral(declared: String) -> ColumnType {
        let upper = declared.uppercased().trimmingCharacters(in: .whitespaces)
        let base = upper.split(separator: "(").first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
        let args = arguments(upper)
        switch base {
        case "BOOL", "BOOLEAN": return .boolean
        case "TINYINT": return .integer(bytes: 1, unsigned: false)
        case "SMALLINT", "INT2": return .integer(bytes: 2, unsigned: false)
        case "MEDIUMINT": return .integer(bytes: 3, unsigned: false)
        case "INT", "INTEGER", "BIGINT", "INT8": return .integer(bytes: 8, unsigned: false)
        case "UNSIGNED BIG INT": return .integer(bytes: 8, unsigned: true)
        case "DECIMAL_TEXT", "DECIMAL", "NUMERIC":
            return .decimal(precision: args.first, scale: args.count > 1 ? args[1] : (args.isEmpty ? nil : 0))
        case "REAL", "DOUBLE", "DOUBLE PRECISION", "FLOAT": return .float64
        case "CHAR", "CHARACTER", "NCHAR", "NATIVE CHARACTER": return .char(length: args.first)
        case "VARCHAR", "VARYING CHARACTER", "NVARCHAR", "CHARACTER VARYING": return .varchar(length: args.first)
        case "TEXT", "CLOB", "": return .text
        case "BLOB", "BINARY", "VARBINARY", "BYTEA": return .blob
        case "DATE": return .date
        case "TIME": return .time(precision: args.first)
        case "DATETIME", "TIMESTAMP": return .timestamp(precision: args.first)
        case "TIMESTAMPTZ", "TIMESTAMP WITH TIME ZONE": return .timestampTZ(precision: args.first)
        case "JSON", "JSON_TEXT", "JSONB": return .json
        case "UUID": return .uuid
        case "INTERVAL": return .interval
        case "BIT_TEXT": return .bit(length: args.first ?? 1, varying: false)
        case "VARBIT_TEXT": return .bit(length: args.first ?? 0, varying: true)
        case "YEAR": return .year
        default:
            if base.contains("INT") { return .integer(bytes: 8, unsigned: false) }
            if base.contains("CHAR") || base.contains("TEXT") || base.contains("CLOB") { return .text }
            if base.contains("REAL") || base.contains("FLOA") || base.contains("DOUB") { return .float64 }
            return .other(name: declared)
        }
    }

    private static func arguments(_ declared: String) -> [Int] {
        guard let open = declared.firstIndex(of: "("), let close = declared.lastIndex(of: ")"), open < close else { return [] }
        return declared[declared.index(after: open)..<close].split(separator: ",").compactMap {
            Int($0.trimmingCharacters(in: .whitespaces))
        }
    }

    /// The declared type for a column from another engine.
    static func ddl(for type: ColumnType) -> String {
        switch type {
        case .boolean: return "BOOLEAN"
        // Unsigned 64-bit values above Int64.max would become lossy REALs under INTEGER affinity.
        case let .integer(bytes, unsigned): return bytes == 8 && unsigned ? "DECIMAL_TEXT(20,0)" : "INTEGER"
        case let .decimal(p, s): return p.map { "DECIMAL_TEXT(\($0),\(s ?? 0))" } ?? "DECIMAL_TEXT"
        case .float32, .float64: return "REAL"
        case let .char(n): return n.map { "CHARACTER(\($0))" } ?? "CHARACTER"
        case let .varchar(n): return n.map { "VARCHAR(\($0))" } ?? "VARCHAR"
        case .text, .enumeration, .set, .other: return "TEXT"
        case .binary, .varbinary, .blob: return "BLOB"
        case .date: return "DATE"
        case let .time(p): return p.map { "TIME(\($0))" } ?? "TIME"
        case let .timestamp(p): return p.map { "DATETIME(\($0))" } ?? "DATETIME"
        case let .timestampTZ(p): return p.map { "TIMESTAMPTZ(\($0))" } ?? "TIMESTAMPTZ"
        case .json, .array: return "JSON_TEXT"
        case .uuid: return "UUID"
        case .interval: return "INTERVAL"
        case let .bit(n, varying): return varying ? "VARBIT_TEXT(\(n))" : "BIT_TEXT(\(n))"
        case .year: return "YEAR"
        }
    }
}
