/// The segments of a `parallel-load` `ranges` rule: `columns` and upper `boundaries`, one value per column
/// in each. N boundaries give N+1 segments, compared as tuples (the first column first). Unlike DMS, which
/// skips rows with a NULL in a range column, one more segment holds those rows, so no row is left behind.
public struct RangeSegments: Hashable, Sendable {
    public var columns: [String]
    public var boundaries: [[String]]

    public init(columns: [String], boundaries: [[String]]) {
        self.columns = columns
        self.boundaries = boundaries
    }

    /// One SQL condition per segment, in the engine's quoting: below the first boundary, between each pair,
    /// from the last boundary on, and the rows with a NULL in any range column.
    public func predicates(quote: (String) -> String, literal: (String) -> String) -> [String] {
        let names = columns.map(quote)
        /// The rows whose range columns come before `boundary` as a tuple.
        func before(_ boundary: [String]) -> String {
            let values = boundary.map(literal)
            let terms = names.indices.map { i in
                (names[..<i].indices.map { "\(names[$0]) = \(values[$0])" } + ["\(names[i]) < \(values[i])"]).joined(separator: " AND ")
            }
            return "(" + terms.map { "(\($0))" }.joined(separator: " OR ") + ")"
        }
        let notNull = names.map { "\($0) IS NOT NULL" }.joined(separator: " AND ")
        // A row with a NULL can still compare below a boundary on an earlier column: every segment but the
        // last excludes such rows explicitly, so that each row lands in exactly one segment.
        var segments: [String] = []
        for (index, boundary) in boundaries.enumerated() {
            let lower = index == 0 ? "" : " AND NOT \(before(boundaries[index - 1]))"
            segments.append("\(notNull)\(lower) AND \(before(boundary))")
        }
        segments.append(notNull + (boundaries.last.map { " AND NOT \(before($0))" } ?? ""))
        segments.append("(" + names.map { "\($0) IS NULL" }.joined(separator: " OR ") + ")")
        return segments
    }

    /// The segments as read chunks.
    public func chunks(quote: (String) -> String, literal: (String) -> String) -> [ReadChunk] {
        let all = predicates(quote: quote, literal: literal)
        return all.enumerated().map { ReadChunk(index: $0, count: all.count, predicate: $1) }
    }
}
