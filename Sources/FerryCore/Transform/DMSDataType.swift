/// A `data-type` block of a transformation rule (`{"type": "string", "length": 50}`), read as the
/// neutral column type a target creates.
public enum DMSDataType {
    /// DMS's type names that map onto relational columns.
    public static let names = ["boolean", "bytes", "blob", "clob", "date", "datetime", "int1", "int2", "int4", "int8",
                               "nclob", "numeric", "real4", "real8", "string", "time", "uint1", "uint2", "uint4",
                               "uint8", "wstring"]

    /// Parses the block; errors name the field.
    static func parse(_ fields: JSONFields) throws -> ColumnType {
        try fields.rejectUnknownKeys(allowed: ["type", "length", "precision", "scale"])
        let name = try fields.string("type")
        let length = try integer(fields, "length")
        let precision = try integer(fields, "precision")
        let scale = try integer(fields, "scale")
        switch name {
        case "boolean": return .boolean
        case "bytes": return length.map { .varbinary(length: $0) } ?? .blob
        case "blob": return .blob
        case "clob", "nclob": return .text
        case "date": return .date
        case "time": return .time(precision: scale)
        case "datetime": return .timestamp(precision: scale ?? precision.map { min($0, 6) })
        case "int1": return .integer(bytes: 1, unsigned: false)
        case "int2": return .integer(bytes: 2, unsigned: false)
        case "int4": return .integer(bytes: 4, unsigned: false)
        case "int8": return .integer(bytes: 8, unsigned: false)
        case "uint1": return .integer(bytes: 1, unsigned: true)
        case "uint2": return .integer(bytes: 2, unsigned: true)
        case "uint4": return .integer(bytes: 4, unsigned: true)
        case "uint8": return .integer(bytes: 8, unsigned: true)
        case "numeric": return .decimal(precision: precision, scale: scale ?? (precision == nil ? nil : 0))
        case "real4": return .float32
        case "real8": return .float64
        case "string", "wstring": return length.map { .varchar(length: $0) } ?? .text
        case "set", "list", "map", "tuple":
            throw FerryError.invalidParameter("\(fields.path).type", "'\(name)' is for non-relational targets; expected one of \(names.joined(separator: ", "))")
        default:
            throw FerryError.invalidParameter("\(fields.path).type", "unknown data type '\(name)'; expected one of \(names.joined(separator: ", "))")
        }
    }

    /// Whether a column of this type is one of DMS's `name` (an `object-locator.data-type`). Unicode and
    /// byte strings match both their DMS names (`string`/`wstring`, `clob`/`nclob`).
    public static func matches(_ type: ColumnType, _ name: String) -> Bool {
        switch type {
        case .boolean: return name == "boolean"
        case let .integer(bytes, unsigned): return name == "\(unsigned ? "uint" : "int")\(bytes)"
        case .decimal: return name == "numeric"
        case .float32: return name == "real4"
        case .float64: return name == "real8"
        case .char, .varchar, .enumeration, .set, .uuid: return name == "string" || name == "wstring"
        case .text, .json: return name == "clob" || name == "nclob"
        case .binary, .varbinary: return name == "bytes"
        case .blob: return name == "blob"
        case .date: return name == "date"
        case .time: return name == "time"
        case .timestamp, .timestampTZ: return name == "datetime"
        default: return false
        }
    }

    private static func integer(_ fields: JSONFields, _ key: String) throws -> Int? {
        guard let text = try fields.stringOrNumber(key) else { return nil }
        guard let value = Int(text), value >= 0 else {
            throw FerryError.invalidParameter("\(fields.path).\(key)", "expected a non-negative integer, got '\(text)'")
        }
        return value
    }
}
