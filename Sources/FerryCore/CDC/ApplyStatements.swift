/// Shapes the statements an applier sends for one table's merged changes, independent of SQL dialect.
public enum ApplyStatements {
    /// Upsert rows grouped by which columns they carry (rows with an unchanged TOAST value leave it out),
    /// in slices of at most `rowsPerStatement`. Each group gives the column indexes and the rows' values.
    public static func upsertGroups(_ rows: [[Value?]], rowsPerStatement: Int = 500) -> [(columns: [Int], rows: [[Value]])] {
        if let first = rows.first, !rows.contains(where: { $0.contains(nil) }) {
            // Every row whole (no unchanged TOAST value): one group.
            return slices(rows.map { $0.map { $0! } }, columns: Array(first.indices), rowsPerStatement)
        }
        var groups: [[Bool]: [[Value?]]] = [:]
        var order: [[Bool]] = []
        for row in rows {
            let mask = row.map { $0 != nil }
            if groups[mask] == nil { order.append(mask) }
            groups[mask, default: []].append(row)
        }
        var result: [(columns: [Int], rows: [[Value]])] = []
        for mask in order {
            let columns = mask.indices.filter { mask[$0] }
            result += slices(groups[mask]!.map { row in columns.map { row[$0]! } }, columns: columns, rowsPerStatement)
        }
        return result
    }

    private static func slices(_ values: [[Value]], columns: [Int], _ rowsPerStatement: Int) -> [(columns: [Int], rows: [[Value]])] {
        stride(from: 0, to: values.count, by: rowsPerStatement).map { (columns, Array(values[$0..<min($0 + rowsPerStatement, values.count)])) }
    }

    /// Keys in slices of at most `keysPerStatement`.
    public static func deleteSlices(_ keys: [[Value]], keysPerStatement: Int = 500) -> [[[Value]]] {
        stride(from: 0, to: keys.count, by: keysPerStatement).map { Array(keys[$0..<min($0 + keysPerStatement, keys.count)]) }
    }

    /// The name of the table that records each task's applied position on the target.
    public static let statusTable = ControlTableNames.applyStatus
}
