import FerryCore

/// Compares fetched rows by key and keeps the differences, up to a limit (the rest are only counted).
struct DifferenceCollector {
    let source: ChecksumTable
    let target: ChecksumTable
    let limit: Int
    var count: Int64 = 0
    private(set) var kept: [RowDifference] = []
    private(set) var rowsFetched: Int64 = 0

    init(source: ChecksumTable, target: ChecksumTable, limit: Int) {
        self.source = source
        self.target = target
        self.limit = limit
    }

    mutating func compare(_ sourceRows: [CanonicalRow], _ targetRows: [CanonicalRow]) {
        rowsFetched += Int64(max(sourceRows.count, targetRows.count))
        var unmatched: [[String?]: CanonicalRow] = [:]
        unmatched.reserveCapacity(sourceRows.count)
        for row in sourceRows { unmatched[source.key.map { row[$0] }] = row }
        for row in targetRows {
            let key = target.key.map { row[$0] }
            guard let sourceRow = unmatched.removeValue(forKey: key) else {
                record(RowDifference(kind: .extraOnTarget, key: key))
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
        for key in unmatched.keys.sorted(by: Self.keyOrder) {
            record(RowDifference(kind: .missingOnTarget, key: key))
        }
    }

    private mutating func record(_ difference: RowDifference) {
        count += 1
        if kept.count < limit { kept.append(difference) }
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
