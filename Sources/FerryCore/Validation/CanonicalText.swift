import Foundation

/// The canonical text of a value, shared by every engine so that equal values hash equally across
/// engines. It is PostgreSQL's own text form under Ferry's session settings (docs/validation.md):
/// booleans `1`/`0`, decimals without trailing fractional zeros, times without trailing fractional zeros,
/// timestamps with a time zone as UTC without an offset, binary as lower-case hex, arrays as JSON.
public enum CanonicalText {
    /// The canonical text of a value read by Ferry (SQLite computes its checksums through this), or nil for NULL.
    public static func of(_ value: Value, as type: ColumnType) -> String? {
        switch value {
        case .null: return nil
        case let .bool(b): return b ? "1" : "0"
        case let .int(i):
            if case .boolean = type { return i != 0 ? "1" : "0" }
            if case .float64 = type { return double(Double(i)) }
            if case .float32 = type { return double(Double(i)) }
            return String(i)
        case let .uint(u): return String(u)
        case let .double(d):
            if case .float32 = type { return double(Double(Float(d))) }
            if case .decimal = type { return decimal("\(d)") }
            return double(d)
        case let .bytes(b): return Hex.encode(b)
        case let .array(values): return JSONText.array(values)
        case let .text(t): return of(text: t, as: type)
        }
    }

    static func of(text t: String, as type: ColumnType) -> String {
        switch type {
        case .boolean: return ["t", "1", "true", "TRUE", "T"].contains(t) ? "1" : "0"
        case .decimal, .integer: return decimal(t)
        case .float32, .float64: return Double(t).map(double) ?? t
        case .timestampTZ: return fraction(TemporalText.utcWithoutOffset(t) ?? t)
        case .timestamp, .time: return fraction(t)
        case .char: return String(t.reversed().drop { $0 == " " }.reversed())
        case .uuid: return t.lowercased()
        default: return t
        }
    }

    /// Drops trailing fractional zeros: `1.500` → `1.5`, `2.000` → `2`, `-0.0` → `0`.
    public static func decimal(_ t: String) -> String {
        guard t.contains("."), !t.contains("e"), !t.contains("E") else { return t }
        var s = Substring(t)
        while s.hasSuffix("0") { s.removeLast() }
        if s.hasSuffix(".") { s.removeLast() }
        return s == "-0" ? "0" : String(s)
    }

    /// Drops trailing zeros of a seconds fraction: `03:04:05.120000` → `03:04:05.12`.
    public static func fraction(_ t: String) -> String {
        guard let dot = t.lastIndex(of: ".") else { return t }
        var s = Substring(t)
        while s.hasSuffix("0"), s.index(before: s.endIndex) > dot { s.removeLast() }
        if s.hasSuffix(".") { s.removeLast() }
        return String(s)
    }

    /// PostgreSQL's shortest round-trip text of a double, with MySQL's exponent sign: plain notation for
    /// exponents −4 through 14, otherwise `1.5e20` / `1e-05`.
    public static func double(_ d: Double) -> String {
        if d.isNaN { return "NaN" }
        if d.isInfinite { return d < 0 ? "-Infinity" : "Infinity" }
        if d == 0 { return d.sign == .minus ? "-0" : "0" }
        // Swift's description holds the shortest round-trip digits; rebuild them in PostgreSQL's layout.
        let text = "\(d.magnitude)"
        var digits = ""
        var exponent = 0
        let parts = text.split(separator: "e", maxSplits: 1)
        let mantissa = parts[0]
        if parts.count == 2 { exponent = Int(parts[1]) ?? 0 }
        let pieces = mantissa.split(separator: ".", omittingEmptySubsequences: false)
        let whole = String(pieces[0])
        let fractional = pieces.count > 1 ? String(pieces[1]) : ""
        digits = whole + fractional
        exponent += whole.count - 1
        let leadingZeros = digits.prefix { $0 == "0" }.count
        digits.removeFirst(leadingZeros)
        exponent -= leadingZeros
        while digits.hasSuffix("0") { digits.removeLast() }
        if digits.isEmpty { return "0" }
        let sign = d < 0 ? "-" : ""
        if exponent < -4 || exponent >= 15 {
            let rest = digits.dropFirst()
            let exp = String(abs(exponent))
            return sign + String(digits.first!) + (rest.isEmpty ? "" : "." + rest) + "e" + (exponent < 0 ? "-" : "") + (exp.count < 2 ? "0" + exp : exp)
        }
        if exponent < 0 {
            return sign + "0." + String(repeating: "0", count: -exponent - 1) + digits
        }
        if digits.count <= exponent + 1 {
            return sign + digits + String(repeating: "0", count: exponent + 1 - digits.count)
        }
        let index = digits.index(digits.startIndex, offsetBy: exponent + 1)
        return sign + digits[..<index] + "." + digits[index...]
    }

    /// Whether two canonical texts that differ as strings still hold the same value: the same number
    /// written differently by two engines, or the same JSON with different spacing or key order.
    public static func sameValue(_ a: String, _ b: String, as type: ColumnType) -> Bool {
        switch type {
        case .float32:
            guard let x = Float(a), let y = Float(b) else { return false }
            return x == y || (x.isNaN && y.isNaN)
        case .float64:
            guard let x = Double(a), let y = Double(b) else { return false }
            return x == y || (x.isNaN && y.isNaN)
        case .json, .array:
            guard let x = normalizedJSON(a), let y = normalizedJSON(b) else { return false }
            return x == y
        default:
            return false
        }
    }

    /// JSON re-serialized with sorted keys and no spacing, or nil when the text is not JSON.
    static func normalizedJSON(_ text: String) -> Data? {
        guard let object = try? JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed]) else { return nil }
        return try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .fragmentsAllowed, .withoutEscapingSlashes])
    }
}
