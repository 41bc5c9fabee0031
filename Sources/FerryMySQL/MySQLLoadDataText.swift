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

    /// The rows of `LOAD DATA` text as values (text, or NULL), for sending them again as INSERTs: each value
    /// is the text the column takes, and an INSERT's string literal means the same to the column.
    static func rows(of text: [UInt8]) -> [[Value]] {
        var rows: [[Value]] = []
        var row: [Value] = []
        var field: [UInt8] = []
        var null = false
        var i = 0
        func endField() {
            row.append(null ? .null : .text(String(decoding: field, as: UTF8.self)))
            field.removeAll(keepingCapacity: true)
            null = false
        }
        while i < text.count {
            let byte = text[i]
            i += 1
            switch byte {
            case 0x09: endField()
            case 0x0a:
                endField()
                rows.append(row)
                row = []
            case 0x5c where i < text.count:
                let escaped = text[i]
                i += 1
                switch escaped {
                case UInt8(ascii: "N") where field.isEmpty && (i == text.count || text[i] == 0x09 || text[i] == 0x0a): null = true
                case UInt8(ascii: "t"): field.append(0x09)
                case UInt8(ascii: "n"): field.append(0x0a)
                case UInt8(ascii: "r"): field.append(0x0d)
                case UInt8(ascii: "b"): field.append(0x08)
                case UInt8(ascii: "0"): field.append(0)
                case UInt8(ascii: "Z"): field.append(0x1a)
                default: field.append(escaped)
                }
            default: field.append(byte)
            }
        }
        return rows
    }
}
