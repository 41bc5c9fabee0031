import Foundation
import FerryCore

/// PostgreSQL array literals (`{1,2,NULL}`, `{"a b","c\"d"}`, `{{1,2},{3,4}}`).
public enum ArrayLiteral {
    /// An element of a parsed literal: a string, NULL, or a nested array.
    public indirect enum Element: Equatable, Sendable {
        case null
        case text(String)
        case array([Element])
    }

    /// Parses an array literal; nil when it is malformed.
    public static func parse(_ literal: String) -> [Element]? {
        var scalars = Array(literal.unicodeScalars)[...]
        // Skip an explicit dimension decoration such as "[0:1]=".
        if scalars.first == "[", let eq = scalars.firstIndex(of: "=") { scalars = scalars[(eq + 1)...] }
        guard let parsed = parseArray(&scalars), scalars.allSatisfy({ $0 == " " }) else { return nil }
        return parsed
    }

    private static func parseArray(_ s: inout ArraySlice<Unicode.Scalar>) -> [Element]? {
        skipSpaces(&s)
        guard s.popFirst() == "{" else { return nil }
        var elements: [Element] = []
        skipSpaces(&s)
        if s.first == "}" { s.removeFirst(); return elements }
        while true {
            skipSpaces(&s)
            guard let first = s.first else { return nil }
            if first == "{" {
                guard let nested = parseArray(&s) else { return nil }
                elements.append(.array(nested))
            } else if first == "\"" {
                s.removeFirst()
                var text = String.UnicodeScalarView()
                while true {
                    guard let c = s.popFirst() else { return nil }
                    if c == "\"" { break }
                    if c == "\\" {
                        guard let escaped = s.popFirst() else { return nil }
                        text.append(escaped)
                    } else {
                        text.append(c)
                    }
                }
                elements.append(.text(String(text)))
            } else {
                var text = String.UnicodeScalarView()
                while let c = s.first, c != ",", c != "}" {
                    s.removeFirst()
                    if c == "\\", let escaped = s.popFirst() { text.append(escaped) } else { text.append(c) }
                }
                let value = String(text).trimmingCharacters(in: .whitespaces)
                elements.append(value.uppercased() == "NULL" ? .null : .text(value))
            }
            skipSpaces(&s)
            switch s.popFirst() {
            case ",": continue
            case "}": return elements
            default: return nil
            }
        }
    }

    private static func skipSpaces(_ s: inout ArraySlice<Unicode.Scalar>) {
        while s.first == " " { s.removeFirst() }
    }

    /// Writes values as an array literal; `elementText` gives each non-null element's text form.
    public static func format(_ values: [Value], elementText: (Value) throws -> String) rethrows -> String {
        var out = "{"
        for (i, value) in values.enumerated() {
            if i > 0 { out += "," }
            switch value {
            case .null: out += "NULL"
            case let .array(nested): out += try format(nested, elementText: elementText)
            default:
                out += "\""
                for c in try elementText(value).unicodeScalars {
                    if c == "\"" || c == "\\" { out += "\\" }
                    out.unicodeScalars.append(c)
                }
                out += "\""
            }
        }
        return out + "}"
    }
}
