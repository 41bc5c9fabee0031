import FerryCore

/// Compares fetched rows by key and keeps the differences: every one counted per kind, and up to a limit
/// of each kind kept with its values. Rows missing on one side whose integer keys follow one another
/// (n, n + 1, …) are kept as one run, so a gap of any length costs one entry.
struct DifferenceCollector {
    let source: ChecksumTable
    let target: ChecksumTable
    let limit: Int
    /// Rows found differing, per kind, kept or not.
    private(set) var counts: [DifferenceKind: Int64] = [:]
    private(set) var rowsFetched: Int64 = 0
    private var found: [DifferenceKind: [RowDifference]] = [:]
    /// Per kind, the index in `found` of the run ending at each integer key.
    private var runEnds: [DifferenceKind: [Int64: Int]] = [:]

    init(source: ChecksumTable, target: ChecksumTable, limit: Int) {
        self.source = source
        self.target = target
        self.limit = limit
    }

    /// Every row found differing.
    var count: Int64 { counts.values.reduce(0, +) }

    mutating func compare(_ sourceRows: [CanonicalRow], _ targetRows: [CanonicalRow]) {
        rowsFetched += Int64(max(sourceRows.count, targetRows.count))
        var unmatched: [[String?]: CanonicalRow] = [:]
        unmatched.reserveCapacity(sourceRows.count)
        for row in sourceRows { unmatched[source.key.map { row[$0] }] = row }
        var extra: [[String?]] = []
        for row in targetRows {
            let key = target.key.map { row[$0] }
            guard let sourceRow = unmatched.removeValue(forKey: key) else {
                extra.append(key)
                continue
            }
            var columns: [String] = [], sourceValues: [String?] = [], targetValues: [String?] = []
            for i in source.columns.indices where !Self.same(sourceRow[i], row[i], source.columns[i].type, target.columns[i].type) {
                columns.append(source.columns[i].name)
                sourceValues.append(sourceRow[i])
                targetValues.append(row[i])
            }
            if !columns.isEmpty {
                record(RowDifference(kind: .differs, key: key, columns: columns, sourceValues: sourceValues, targetValues: targetValues))
            }
        }
        for key in extra.sorted(by: Self.keyOrder) { record(RowDifference(kind: .extraOnTarget, key: key)) }
        for key in unmatched.keys.sorted(by: Self.keyOrder) { record(RowDifference(kind: .missingOnTarget, key: key)) }
    }

    private mutating func record(_ difference: RowDifference) {
        let kind = difference.kind
        counts[kind, default: 0] += 1
        let integer = difference.kind != .differs ? Self.integerKey(difference.key) : nil
        if let integer, integer > Int64.min, let index = runEnds[kind]?.removeValue(forKey: integer - 1) {
            found[kind]![index].lastKey = difference.key
            runEnds[kind]![integer] = index
            return
        }
        guard found[kind, default: []].count < limit else { return }
        found[kind, default: []].append(difference)
        if let integer { runEnds[kind, default: [:]][integer] = found[kind]!.count - 1 }
    }

    /// The differences kept, at most `limit`: those of every kind found share the limit, so a cut list
    /// still shows each kind; runs found in separate fetches that meet are one run.
    var kept: [RowDifference] {
        let lists = Self.kinds.map { Self.mergingRuns(found[$0] ?? []) }
        var shares = lists.map { _ in 0 }
        var left = limit
        // Water-filling: the kinds with fewer entries take all of theirs, the others share what remains.
        let order = lists.indices.filter { !lists[$0].isEmpty }.sorted { lists[$0].count < lists[$1].count }
        for (position, i) in order.enumerated() {
            shares[i] = min(lists[i].count, left / (order.count - position))
            left -= shares[i]
        }
        return lists.indices.flatMap { lists[$0].prefix(shares[$0]) }
    }

    /// Every difference found with its values (up to `limit` of each kind), runs merged: what a recheck fetches again.
    var candidates: [RowDifference] {
        Self.kinds.flatMap { Self.mergingRuns(found[$0] ?? []) }
    }

    private static let kinds: [DifferenceKind] = [.differs, .missingOnTarget, .extraOnTarget]

    private static func mergingRuns(_ list: [RowDifference]) -> [RowDifference] {
        guard list.first?.kind != .differs, list.allSatisfy({ integerKey($0.key) != nil }) else { return list }
        var merged: [RowDifference] = []
        for difference in list.sorted(by: { integerKey($0.key)! < integerKey($1.key)! }) {
            if let last = merged.last, let end = integerKey(last.lastKey ?? last.key), let start = integerKey(difference.key), end < Int64.max, end + 1 == start {
                merged[merged.count - 1].lastKey = difference.lastKey ?? difference.key
            } else {
                merged.append(difference)
            }
        }
        return merged
    }

    /// Keeps a difference found before as it was, without comparing it again (a run too long to fetch).
    mutating func keep(_ difference: RowDifference) {
        counts[difference.kind, default: 0] += difference.rows
        guard found[difference.kind, default: []].count < limit else { return }
        found[difference.kind, default: []].append(difference)
    }

    /// Counts the differences `earlier` found beyond its candidates as found again: a recheck fetches only those.
    mutating func carry(_ earlier: DifferenceCollector) {
        for (kind, total) in earlier.counts {
            counts[kind, default: 0] += total - (earlier.found[kind] ?? []).reduce(0) { $0 + $1.rows }
        }
    }

    static func integerKey(_ key: [String?]) -> Int64? {
        guard key.count == 1, let text = key[0] else { return nil }
        return Int64(text)
    }

    /// Equal canonical texts, or the same number or JSON written differently by two engines.
    static func same(_ a: String?, _ b: String?, _ sourceType: ColumnType, _ targetType: ColumnType) -> Bool {
        if a == b { return true }
        guard let a, let b else { return false }
        return CanonicalText.sameValue(a, b, as: sourceType) || CanonicalText.sameValue(a, b, as: targetType)
    }

    static func keyOrder(_ a: [String?], _ b: [String?]) -> Bool {
        for (x, y) in zip(a, b) where x != y {
            guard let x else { return true }
            guard let y else { return false }
            if let i = Int64(x), let j = Int64(y) { return i < j }
            return x < y
        }
        return false
    }
}
