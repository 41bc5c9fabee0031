import FerryCore

/// Writes values as MySQL SQL literals into statement bytes.
public enum MySQLLiteral {
    /// Appends bytes with the escapes MySQL string literals need (NUL, newline, return, backslash,
    /// quotes, Ctrl-Z). UTF-8 never places these bytes inside a multi-byte character, so this is safe
    /// for text and binary alike.
    public static func appendEscaped<S: Sequence>(_ bytes: S, to out: inout [UInt8]) where S.Element == UInt8 {
        for b in bytes {
            switch b {
            case 0: out.append(0x5c); out.append(UInt8(ascii: "0"))
            case 0x0a: out.append(0x5c); out.append(UInt8(ascii: "n"))
            case 0x0d: out.append(0x5c); out.append(UInt8(ascii: "r"))
            case 0x5c: out.append(0x5c); out.append(0x5c)
            case 0x27: out.append(0x5c); out.append(0x27)
            case 0x22: out.append(0x5c); out.append(0x22)
            case 0x1a: out.append(0x5c); out.append(UInt8(ascii: "Z"))
            default: out.append(b)
            }
        }
    }

    /// Appends one value as a literal for a target column created from `type`.
    static func append(_ value: Value, as type: ColumnType, column: @autoclosure () -> String, to out: inout [UInt8]) throws {
        switch try MySQLValueForm(value, as: type, column: column()) {
        case .null: out.append(contentsOf: "NULL".utf8)
        case let .bare(text): out.append(contentsOf: text.utf8)
        case let .text(text): appendQuoted(text.utf8, to: &out)
        case let .binary(bytes):
            out.append(contentsOf: "_binary".utf8)
            appendQuoted(bytes, to: &out)
        case let .bits(digits): out.append(contentsOf: "b'\(digits)'".utf8)
        }
    }

    private static func appendQuoted<S: Sequence>(_ bytes: S, to out: inout [UInt8]) where S.Element == UInt8 {
        out.append(0x27)
        appendEscaped(bytes, to: &out)
        out.append(0x27)
    }
}

/// A value as a MySQL column created from its type takes it, before it is written as a SQL literal
/// (``MySQLLiteral``) or a `LOAD DATA` field (``MySQLLoadDataText``).
enum MySQLValueForm {
    case null
    /// Written as it is: numbers, booleans as 0 or 1.
    case bare(String)
    case text(String)
    case binary([UInt8])
    /// A bit string's digits.
    case bits(String)

    init(_ value: Value, as type: ColumnType, column: @autoclosure () -> String) throws {
        switch value {
        case .null: self = .null
        case let .int(v): self = .bare(String(v))
        case let .uint(v): self = .bare(String(v))
        case let .double(v):
            guard v.isFinite else { throw FerryError(.dataError, "\(column()): MySQL cannot store \(Value.canonicalDouble(v))") }
            self = .bare("\(v)")
        case let .bool(v): self = .bare(v ? "1" : "0")
        case let .text(text):
            switch type {
            case .timestampTZ:
                guard let utc = TemporalText.utcWithoutOffset(text) else {
                    throw FerryError(.dataError, "\(column()): '\(text)' is not a timestamp MySQL can store")
                }
                self = .text(utc)
            case let .bit(length, varying) where !varying && length <= 64:
                guard text.allSatisfy({ $0 == "0" || $0 == "1" }) else { throw FerryError(.dataError, "\(column()): '\(text)' is not a bit string") }
                self = .bits(text)
            case .boolean where text == "t" || text == "f":
                self = .bare(text == "t" ? "1" : "0")
            default:
                self = .text(text)
            }
        case let .bytes(bytes): self = .binary(bytes)
        case let .array(values): self = .text(JSONText.array(values))
        }
    }
}
