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
        switch value {
        case .null:
            out.append(contentsOf: "NULL".utf8)
        case let .int(v):
            out.append(contentsOf: String(v).utf8)
        case let .uint(v):
            out.append(contentsOf: String(v).utf8)
        case let .double(v):
            guard v.isFinite else {
                throw FerryError(.dataError, "\(column()): MySQL cannot store \(Value.canonicalDouble(v))")
            }
            out.append(contentsOf: "\(v)".utf8)
        case let .bool(v):
            out.append(v ? UInt8(ascii: "1") : UInt8(ascii: "0"))
        case let .text(text):
            switch type {
            case .timestampTZ:
                guard let utc = TemporalText.utcWithoutOffset(text) else {
                    throw FerryError(.dataError, "\(column()): '\(text)' is not a timestamp MySQL can store")
                }
                appendQuoted(utc.utf8, to: &out)
            case let .bit(length, varying) where !varying && length <= 64:
                guard text.allSatisfy({ $0 == "0" || $0 == "1" }) else {
                    throw FerryError(.dataError, "\(column()): '\(text)' is not a bit string")
                }
                out.append(contentsOf: "b'\(text)'".utf8)
            case .boolean where text == "t" || text == "f":
                out.append(text == "t" ? UInt8(ascii: "1") : UInt8(ascii: "0"))
            default:
                appendQuoted(text.utf8, to: &out)
            }
        case let .bytes(bytes):
            out.append(contentsOf: "_binary".utf8)
            appendQuoted(bytes, to: &out)
        case let .array(values):
            appendQuoted(JSONText.array(values).utf8, to: &out)
        }
    }

    private static func appendQuoted<S: Sequence>(_ bytes: S, to out: inout [UInt8]) where S.Element == UInt8 {
        out.append(0x27)
        appendEscaped(bytes, to: &out)
        out.append(0x27)
    }
}
