/// The engine-neutral type of a column. Each engine maps its native types onto these and back;
/// docs/type-mapping.md lists every mapping.
public indirect enum ColumnType: Hashable, Sendable, CustomStringConvertible {
    case boolean
    /// An integer of `bytes` bytes (1, 2, 3, 4 or 8).
    case integer(bytes: Int, unsigned: Bool)
    /// An exact number; `nil` precision means unconstrained (PostgreSQL `numeric`).
    case decimal(precision: Int?, scale: Int?)
    case float32
    case float64
    case char(length: Int?)
    case varchar(length: Int?)
    case text
    case binary(length: Int)
    case varbinary(length: Int)
    case blob
    case date
    case time(precision: Int?)
    case timestamp(precision: Int?)
    /// A point in time; values travel as UTC text with an offset (`2024-01-02 03:04:05.123456+00`).
    case timestampTZ(precision: Int?)
    case json
    case uuid
    case enumeration(values: [String])
    case set(values: [String])
    case array(element: ColumnType)
    /// An ISO 8601 duration such as `P1Y2M3DT4H5M6.5S`.
    case interval
    case bit(length: Int, varying: Bool)
    case year
    /// A type with no neutral equivalent, carried as its text form (PostgreSQL inet, money, point, …).
    case other(name: String)

    public var description: String {
        switch self {
        case .boolean: return "boolean"
        case let .integer(bytes, unsigned): return "int\(bytes * 8)\(unsigned ? " unsigned" : "")"
        case let .decimal(p, s):
            if let p { return "decimal(\(p),\(s ?? 0))" }
            return "decimal"
        case .float32: return "float32"
        case .float64: return "float64"
        case let .char(n): return n.map { "char(\($0))" } ?? "char"
        case let .varchar(n): return n.map { "varchar(\($0))" } ?? "varchar"
        case .text: return "text"
        case let .binary(n): return "binary(\(n))"
        case let .varbinary(n): return "varbinary(\(n))"
        case .blob: return "blob"
        case .date: return "date"
        case let .time(p): return p.map { "time(\($0))" } ?? "time"
        case let .timestamp(p): return p.map { "timestamp(\($0))" } ?? "timestamp"
        case let .timestampTZ(p): return p.map { "timestamptz(\($0))" } ?? "timestamptz"
        case .json: return "json"
        case .uuid: return "uuid"
        case let .enumeration(values): return "enum(\(values.joined(separator: ",")))"
        case let .set(values): return "set(\(values.joined(separator: ",")))"
        case let .array(element): return "\(element)[]"
        case .interval: return "interval"
        case let .bit(n, varying): return varying ? "varbit(\(n))" : "bit(\(n))"
        case .year: return "year"
        case let .other(name): return name
        }
    }
}
