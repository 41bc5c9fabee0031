/// A DMS object-locator pattern: `%` matches any run of characters, `_` any one character,
/// and `[%]`, `[_]` match those characters literally.
public struct Wildcard: Hashable, Sendable, CustomStringConvertible {
    enum Token: Hashable, Sendable {
        case literal(Character)
        case any
        case one
    }

    let tokens: [Token]
    public let description: String

    /// Parses a pattern; throws when a `[` is not a valid escape.
    public init(_ pattern: String) throws {
        var tokens: [Token] = []
        var chars = Array(pattern)[...]
        while let c = chars.popFirst() {
            switch c {
            case "%": tokens.append(.any)
            case "_": tokens.append(.one)
            case "[":
                guard chars.count >= 2, chars[chars.startIndex + 1] == "]" else {
                    throw FerryError(.invalidParameter, "'\(pattern)': '[' must start an escape such as [%] or [_]")
                }
                tokens.append(.literal(chars.removeFirst()))
                chars.removeFirst()
            default: tokens.append(.literal(c))
            }
        }
        self.tokens = tokens
        self.description = pattern
    }

    /// A pattern that matches exactly `name`, with no wildcard characters.
    public init(literal name: String) {
        tokens = name.map(Token.literal)
        description = name
    }

    /// Whether the pattern has no wildcard, so it names exactly one object.
    public var isExact: Bool {
        tokens.allSatisfy { if case .literal = $0 { return true } else { return false } }
    }

    /// Whether `name` matches the whole pattern (case-sensitive).
    public func matches(_ name: String) -> Bool {
        let text = Array(name)
        // Classic wildcard matching with backtracking to the last `%`.
        var t = 0, p = 0
        var starP = -1, starT = 0
        while t < text.count {
            if p < tokens.count {
                switch tokens[p] {
                case .any:
                    starP = p; starT = t; p += 1; continue
                case .one:
                    t += 1; p += 1; continue
                case let .literal(c) where c == text[t]:
                    t += 1; p += 1; continue
                default: break
                }
            }
            guard starP >= 0 else { return false }
            p = starP + 1
            starT += 1
            t = starT
        }
        while p < tokens.count, tokens[p] == .any { p += 1 }
        return p == tokens.count
    }
}
