import FerryCore

/// Rows in the text `LOAD DATA` reads by default: a tab between fields, a newline after each row, `\N`
/// for NULL, and backslash escapes for the bytes that would end a field or a row.
enum MySQLLoadDataText {
    /// Whether columns of these types load from this text as an INSERT's literals would: a BIT column
    /// would take the digits as bytes, so a table with one is loaded with INSERTs.
    static func accepts(_ types: [ColumnType]) -> Bool {
        !types.contains { if case .bit = $0 { true } else { false } }
    }

    /// Appends one field for a column created from `type`.
    static func append(_ value: Value, as type: ColumnType, column: @autoclosure () -> String, to out: inout [UInt8]) throws {
        switch try MySQLValueForm(value, as: type, column: column()) {
        case .null: out.append(contentsOf: [0x5c, UInt8(ascii: "N")])
        case let .bare(text): out.append(contentsOf: text.utf8)
        case let .text(text): appendEscaped(text.utf8, to: &out)
        case let .binary(bytes): appendEscaped(bytes, to: &out)
        case .bits: throw FerryError(.database, "\(column()): a BIT column does not load from LOAD DATA's text")
        }
    }

    /// Escapes the backslash, tab, newline, carriage return and NUL.
    static func appendEscaped<S: Sequence>(_ bytes: S, to out: inout [UInt8]) where S.Element == UInt8 {
        for b in bytes {
            switch b {
            case 0x5c: out.append(0x5c); out.append(0x5c)
            case 0x09: out.append(0x5c); out.append(UInt8(ascii: "t"))
            case 0x0a: out.append(0x5c); out.append(UInt8(ascii: "n"))
            case 0x0d: out.append(0x5c); out.append(UInt8(ascii: "r"))
            case 0: out.append(0x5c); out.append(UInt8(ascii: "0"))
            default: out.append(b)
            }
        }
    }
}
