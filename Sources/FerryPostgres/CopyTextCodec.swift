import FerryCore

/// PostgreSQL's COPY text format: tab-separated fields, `\N` for NULL, backslash escapes.
public enum CopyTextCodec {
    /// Splits one row (with or without its trailing newline) into fields, unescaped; nil is NULL.
    public static func decodeRow(_ row: UnsafeRawBufferPointer) -> [[UInt8]?] {
        var fields: [[UInt8]?] = []
        var field: [UInt8] = []
        var isNullMarker = false
        var i = 0
        let n = row.count
        var end = n
        if end > 0, row[end - 1] == 0x0a { end -= 1 }
        var fieldStart = true
        while i < end {
            let c = row[i]
            if c == 0x09 {
                fields.append(isNullMarker ? nil : field)
                field.removeAll(keepingCapacity: true)
                isNullMarker = false
                fieldStart = true
                i += 1
                continue
            }
            if c == 0x5c, i + 1 < end {
                let e = row[i + 1]
                if e == UInt8(ascii: "N"), fieldStart, i + 2 == end || row[i + 2] == 0x09 {
                    isNullMarker = true
                    i += 2
                    fieldStart = false
                    continue
                }
                i += 2
                switch e {
                case UInt8(ascii: "t"): field.append(0x09)
                case UInt8(ascii: "n"): field.append(0x0a)
                case UInt8(ascii: "r"): field.append(0x0d)
                case UInt8(ascii: "b"): field.append(0x08)
                case UInt8(ascii: "f"): field.append(0x0c)
                case UInt8(ascii: "v"): field.append(0x0b)
                case UInt8(ascii: "0")...UInt8(ascii: "7"):
                    var value = Int(e - 48)
                    var digits = 1
                    while digits < 3, i < end, (48...55).contains(row[i]) {
                        value = value * 8 + Int(row[i] - 48)
                        i += 1
                        digits += 1
                    }
                    field.append(UInt8(truncatingIfNeeded: value))
                case UInt8(ascii: "x"):
                    var value = 0
                    var digits = 0
                    while digits < 2, i < end, let d = hexDigit(row[i]) {
                        value = value * 16 + d
                        i += 1
                        digits += 1
                    }
                    if digits == 0 { field.append(UInt8(ascii: "x")) } else { field.append(UInt8(value)) }
                default: field.append(e)
                }
                fieldStart = false
                continue
            }
            field.append(c)
            fieldStart = false
            i += 1
        }
        fields.append(isNullMarker ? nil : field)
        return fields
    }

    /// Hands each field of one row to `body` in order, unescaped; nil is NULL. A field without escapes is
    /// handed over in place, without a copy (most fields: numbers, dates, plain text).
    public static func forEachField(_ row: UnsafeRawBufferPointer, _ body: (UnsafeRawBufferPointer?) throws -> Void) rethrows {
        var end = row.count
        if end > 0, row[end - 1] == 0x0a { end -= 1 }
        var start = 0
        while true {
            var stop = start
            var escaped = false
            while stop < end, row[stop] != 0x09 {
                if row[stop] == 0x5c { escaped = true }
                stop += 1
            }
            let field = UnsafeRawBufferPointer(rebasing: row[start..<stop])
            if !escaped {
                try body(field)
            } else if field.count == 2, field[1] == UInt8(ascii: "N") {
                try body(nil)
            } else {
                try decodeRow(field)[0]!.withUnsafeBytes { try body($0) }
            }
            guard stop < end else { return }
            start = stop + 1
        }
    }

    private static func hexDigit(_ c: UInt8) -> Int? {
        switch c {
        case 48...57: return Int(c - 48)
        case 97...102: return Int(c - 87)
        case 65...70: return Int(c - 55)
        default: return nil
        }
    }

    /// Appends `text`'s bytes to `out` with COPY escapes for backslash, tab, newline and carriage return.
    public static func appendEscaped<S: Sequence>(_ bytes: S, to out: inout [UInt8]) where S.Element == UInt8 {
        if let done = bytes.withContiguousStorageIfAvailable({ buffer in
            // Most values need no escape: they go in one copy.
            guard buffer.contains(where: needsEscape) else { return out.append(contentsOf: buffer) }
            appendEach(buffer, to: &out)
        }) {
            return done
        }
        appendEach(bytes, to: &out)
    }

    private static func needsEscape(_ byte: UInt8) -> Bool {
        byte == 0x5c || byte == 0x09 || byte == 0x0a || byte == 0x0d
    }

    private static func appendEach<S: Sequence>(_ bytes: S, to out: inout [UInt8]) where S.Element == UInt8 {
        for b in bytes {
            switch b {
            case 0x5c: out.append(0x5c); out.append(0x5c)
            case 0x09: out.append(0x5c); out.append(UInt8(ascii: "t"))
            case 0x0a: out.append(0x5c); out.append(UInt8(ascii: "n"))
            case 0x0d: out.append(0x5c); out.append(UInt8(ascii: "r"))
            default: out.append(b)
            }
        }
    }

    /// The NULL marker.
    public static let null: [UInt8] = [0x5c, UInt8(ascii: "N")]
}
