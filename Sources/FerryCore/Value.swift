/// One column value in flight between a source and a target.
///
/// Numbers travel as numbers, exact decimals and temporal values as their canonical text
/// (`decimal` digits, ISO dates, `HH:MM:SS.ffffff`, UTC timestamps), binary as bytes.
/// The column's ``ColumnType`` says how a target must store it.
public enum Value: Hashable, Sendable {
    case null
    case int(Int64)
    case uint(UInt64)
    case double(Double)
    case bool(Bool)
    case text(String)
    case bytes([UInt8])
    case array([Value])

    public var isNull: Bool {
        if case .null = self { return true }
        return false
    }

    /// The value as text, as a target that stores it in a textual column would write it.
    public var textForm: String? {
        switch self {
        case .null: return nil
        case let .int(v): return String(v)
        case let .uint(v): return String(v)
        case let .double(v): return Value.canonicalDouble(v)
        case let .bool(v): return v ? "true" : "false"
        case let .text(v): return v
        case let .bytes(v): return String(decoding: v, as: UTF8.self)
        case let .array(values): return JSONText.array(values)
        }
    }

    /// The shortest text that reads back as exactly `v`, with `Infinity`, `-Infinity` and `NaN` spelled out.
    public static func canonicalDouble(_ v: Double) -> String {
        if v.isNaN { return "NaN" }
        if v == .infinity { return "Infinity" }
        if v == -.infinity { return "-Infinity" }
        return "\(v)"
    }
}
