import FerryCore

/// PostgreSQL's side of a load into MySQL/MariaDB without decoding (``NativeEncoding/mysqlLoadDataText``):
/// the COPY's SELECT writes each value in the text the MySQL column takes (the casts the value path does
/// in Ferry), and COPY's text format is already `LOAD DATA`'s but for two escapes.
enum PostgresLoadDataText {
    /// Whether a column of this type can go this way: its text (after ``expression(_:)``) is what Ferry's
    /// value path writes into MySQL. Binary, bit, JSON, array, interval and user types go as values, and so
    /// do floats, whose NaN and infinities the value path refuses with a message of its own.
    static func carries(_ type: ColumnType) -> Bool {
        switch type {
        case .integer, .decimal, .char, .varchar, .text, .boolean, .date, .time, .timestamp, .timestampTZ, .uuid:
            return true
        default:
            return false
        }
    }

    /// The column as MySQL takes it: booleans as 1/0, timestamps with a time zone as UTC without an offset
    /// (the session's TimeZone is UTC), anything else in PostgreSQL's own output form.
    static func expression(_ column: Column) -> String {
        let c = PGConnection.quote(column.name)
        switch column.type {
        case .boolean: return "\(c)::int"
        case .timestampTZ: return "\(c) AT TIME ZONE 'UTC'"
        default: return c
        }
    }

    /// Appends one COPY text row to `out` as `LOAD DATA` text. COPY writes form feed and vertical tab as
    /// `\f` and `\v`, which `LOAD DATA` would read as the letters: they go as the bytes themselves (they end
    /// neither a field nor a row). Every other escape COPY writes means the same to `LOAD DATA`.
    static func append(_ row: UnsafeRawBufferPointer, to out: inout [UInt8]) {
        guard row.contains(0x5c) else { return out.append(contentsOf: row) }
        var i = 0
        while i < row.count {
            let byte = row[i]
            if byte == 0x5c, i + 1 < row.count {
                switch row[i + 1] {
                case UInt8(ascii: "f"): out.append(0x0c)
                case UInt8(ascii: "v"): out.append(0x0b)
                default: out.append(byte); out.append(row[i + 1])
                }
                i += 2
                continue
            }
            out.append(byte)
            i += 1
        }
    }
}
