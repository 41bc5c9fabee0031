import Foundation

extension RowFilter {
    /// Whether a changed row's value passes this filter (any of its conditions), as the source would
    /// compare it with the filter's literal: numbers as numbers, other values by their text. Nil when the
    /// value is not known (an unchanged TOASTed value the log did not carry).
    public func admits(_ value: Value?) -> Bool? {
        guard let value else { return nil }
        return conditions.contains { $0.admits(value) }
    }
}

extension RowFilter.Condition {
    func admits(_ value: Value) -> Bool {
        switch self {
        case .isNull: return value.isNull
        case .isNotNull: return !value.isNull
        case let .lessOrEqual(limit): return Self.compare(value, limit).map { $0 != .orderedDescending } ?? false
        case let .greaterOrEqual(limit): return Self.compare(value, limit).map { $0 != .orderedAscending } ?? false
        case let .equal(literal): return Self.compare(value, literal) == .orderedSame
        case let .notEqual(literal): return Self.compare(value, literal).map { $0 != .orderedSame } ?? false
        case let .between(low, high):
            guard let above = Self.compare(value, low), let below = Self.compare(value, high) else { return false }
            return above != .orderedAscending && below != .orderedDescending
        case let .notBetween(low, high):
            guard let above = Self.compare(value, low), let below = Self.compare(value, high) else { return false }
            return above == .orderedAscending || below == .orderedDescending
        }
    }

    /// NULL compares with nothing (as in SQL); a number, or text that reads as one against a numeric
    /// literal, compares numerically; anything else by its text.
    static func compare(_ value: Value, _ literal: String) -> ComparisonResult? {
        guard let text = value.textForm, !value.isNull else { return nil }
        let number: Double? = switch value {
        case let .int(v): Double(v)
        case let .uint(v): Double(v)
        case let .double(v): v
        case let .bool(v): v ? 1 : 0
        case .text: Double(text)
        default: nil
        }
        if let number, let limit = Double(literal) {
            return number < limit ? .orderedAscending : number > limit ? .orderedDescending : .orderedSame
        }
        return text < literal ? .orderedAscending : text > literal ? .orderedDescending : .orderedSame
    }
}
