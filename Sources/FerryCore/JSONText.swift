/// Writes values as JSON text; used where a target has no array type.
public enum JSONText {
    /// A JSON array of the given values (numbers, strings, booleans, null, nested arrays).
    public static func array(_ values: [Value]) -> String {
        var out = "["
        for (i, v) in values.enumerated() {
            if i > 0 { out += "," }
            out += element(v)
        }
        return out + "]"
    }

    static func element(_ v: Value) -> String {
        switch v {
        case .null: return "null"
        case let .int(i): return String(i)
        case let .uint(u): return String(u)
        case let .double(d): return d.isFinite ? "\(d)" : quoted(Value.canonicalDouble(d))
        case let .bool(b): return b ? "true" : "false"
        case let .text(s): return quoted(s)
        case let .bytes(b): return quoted(Hex.encode(b))
        case let .array(a): return array(a)
        }
    }

    /// `s` as a JSON string literal.
    public static func quoted(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}

/// Lower-case hexadecimal encoding of bytes.
public enum Hex {
    private static let digits = Array("0123456789abcdef".utf8)

    public static func encode(_ bytes: [UInt8]) -> String {
        var out = [UInt8]()
        out.reserveCapacity(bytes.count * 2)
        appendEncoded(bytes, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Appends the hex digits of `bytes` to `out`.
    public static func appendEncoded(_ bytes: [UInt8], to out: inout [UInt8]) {
        for b in bytes {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 0x0f)])
        }
    }

    /// Decodes hex digits (either case); nil when the text is not valid hex.
    public static func decode<C: Collection>(_ text: C) -> [UInt8]? where C.Element == UInt8 {
        guard text.count % 2 == 0 else { return nil }
        var out = [UInt8]()
        out.reserveCapacity(text.count / 2)
        var high: UInt8? = nil
        for c in text {
            guard let nibble = nibble(c) else { return nil }
            if let h = high {
                out.append(h << 4 | nibble)
                high = nil
            } else {
                high = nibble
            }
        }
        return out
    }

    private static func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case 48...57: return c - 48
        case 97...102: return c - 87
        case 65...70: return c - 55
        default: return nil
        }
    }
}
