/// The segments of a `parallel-load` `ranges` rule: `columns` and upper `boundaries`, one value per column
/// in each. N boundaries give N+1 segments, compared as tuples (the first column first). Unlike DMS, which
/// skips rows with a NULL in a range column, one more segment holds those rows, so no row is left behind.
/// Segments name rows by their values, not by where they are stored, so a later run reads the same rows
/// for a segment again: a full load that stopped resumes by segment.
public struct RangeSegments: Hashable, Sendable, Codable {
    public var columns: [String]
    public var boundaries: [[String]]
    /// Whether a last segment holds the rows with a NULL in a range column; false when the columns cannot
    /// hold one (a primary key).
    public var nullSegment: Bool

    public init(columns: [String], boundaries: [[String]], nullSegment: Bool = true) {
        self.columns = columns
        self.boundaries = boundaries
        self.nullSegment = nullSegment
    }

    /// `count` segments of about equal width over the integer `column`'s values from `low` to `high`
    /// (fewer when the span is narrower), with no segment for NULLs: the split of a table by its key.
    public static func evenSplit(column: String, low: Int64, high: Int64, count: Int) -> RangeSegments {
        let span = high.subtractingReportingOverflow(low)
        guard count > 1, !span.overflow, span.partialValue > 0 else { return RangeSegments(columns: [column], boundaries: [], nullSegment: false) }
        let step = span.partialValue / Int64(count) + 1
        let boundaries = (1..<count).map { low + Int64($0) * step }.filter { $0 <= high }
        return RangeSegments(columns: [column], boundaries: boundaries.map { [String($0)] }, nullSegment: false)
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
        if nullSegment { segments.append("(" + names.map { "\($0) IS NULL" }.joined(separator: " OR ") + ")") }
        return segments
    }

    /// How many segments there are.
    public var count: Int { boundaries.count + (nullSegment ? 2 : 1) }

    /// The segments as read chunks, each naming them so that it can be read again.
    public func chunks(quote: (String) -> String, literal: (String) -> String) -> [ReadChunk] {
        let all = predicates(quote: quote, literal: literal)
        return all.enumerated().map { ReadChunk(index: $0, count: all.count, predicate: $1, segments: self) }
    }

    /// The condition of segment `index` over `plan`'s target columns, in the target's quoting: the
    /// segment's rows on the target.
    public func targetPredicate(_ index: Int, in plan: TablePlan, quote: (String) -> String, literal: (String) -> String) throws -> String {
        let names = columns.compactMap(plan.targetName(ofSource:))
        guard names.count == columns.count, predicates(quote: quote, literal: literal).indices.contains(index) else {
            throw FerryError(.database, "segment \(index) of \(plan.source.id)'s ranges over \(columns.joined(separator: ", ")) has no place in \(plan.target)")
        }
        return RangeSegments(columns: names, boundaries: boundaries, nullSegment: nullSegment).predicates(quote: quote, literal: literal)[index]
    }
}
