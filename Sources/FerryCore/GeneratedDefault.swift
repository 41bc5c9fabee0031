/// A column value the database makes when an INSERT leaves the column out, other than a literal default:
/// a counter, the current time, a random UUID, or an expression of the source engine's own. Each target
/// creates its equivalent where one exists; the load's warnings name the ones it could not carry.
public enum GeneratedDefault: Hashable, Sendable, CustomStringConvertible {
    /// The next number of a counter: PostgreSQL identity or serial, MySQL AUTO_INCREMENT, SQLite
    /// INTEGER PRIMARY KEY.
    case counter(Counter)
    /// `now()`, `CURRENT_TIMESTAMP`.
    case currentTimestamp
    /// `CURRENT_DATE`.
    case currentDate
    /// `gen_random_uuid()`, MySQL `uuid()`.
    case randomUUID
    /// Any other expression, as the source engine writes it; carried only to the same engine.
    case expression(String)

    /// How a counter behaves on the source.
    public struct Counter: Hashable, Sendable {
        /// PostgreSQL `GENERATED ALWAYS`: an INSERT may not give the column a value.
        public var always: Bool
        /// Whether the value of a deleted highest row can be handed out again (SQLite INTEGER PRIMARY KEY
        /// without AUTOINCREMENT); PostgreSQL sequences and MySQL counters never go back.
        public var reusesValues: Bool

        public init(always: Bool = false, reusesValues: Bool = false) {
            self.always = always
            self.reusesValues = reusesValues
        }
    }

    /// Recognises the portable expressions (any case, in parentheses or not, with empty parentheses or a
    /// fractional-seconds precision); anything else is kept as the source's own expression. A NULL default
    /// (`NULL`, PostgreSQL's `NULL::text`) is none.
    public static func recognise(_ expression: String) -> GeneratedDefault? {
        var bare = Substring(expression.trimmingCharacters(in: .whitespaces).lowercased())
        if bare == "null" || bare.hasPrefix("null::") { return nil }
        while bare.hasPrefix("("), bare.hasSuffix(")") { bare = bare.dropFirst().dropLast() }
        if let open = bare.firstIndex(of: "("), bare.hasSuffix(")"), bare[bare.index(after: open)...].dropLast().allSatisfy(\.isNumber) {
            bare = bare[..<open]
        }
        switch bare {
        case "now", "current_timestamp", "transaction_timestamp", "localtimestamp": return .currentTimestamp
        case "current_date", "curdate": return .currentDate
        case "gen_random_uuid", "uuid_generate_v4", "uuid": return .randomUUID
        default: return .expression(expression)
        }
    }

    /// How people write it: `a counter`, `CURRENT_TIMESTAMP`, the expression itself.
    public var description: String {
        switch self {
        case .counter: "a counter (identity, serial, AUTO_INCREMENT)"
        case .currentTimestamp: "the current time"
        case .currentDate: "the current date"
        case .randomUUID: "a random UUID"
        case let .expression(text): text
        }
    }

    public var counter: Counter? {
        if case let .counter(counter) = self { return counter }
        return nil
    }
}
