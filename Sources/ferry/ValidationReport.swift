import FerryCore
import FerryEngine
import Foundation

/// Prints validation results: one line per table as it finishes, its differences, and a summary.
enum ValidationReport {
    /// The table's verdict and, indented below it, each difference kept.
    static func line(_ table: TableValidation) -> String {
        var text = "\(table.source) -> \(table.target): \(table.state.rawValue)"
        if let error = table.error {
            text += ": \(error)"
        } else {
            text += String(format: ", %lld source rows, %lld target rows, %.1fs", table.sourceRows, table.targetRows, table.seconds)
            if table.differenceCount > 0 { text += ", \(table.differenceCount) differing rows" }
            if let repaired = table.repairedRows { text += ", \(repaired) rows re-copied" }
            if table.state == .noPrimaryKey {
                text += table.differenceCount == 0 ? " (whole-table count and hash match)" : " (whole-table count or hash differs)"
            }
        }
        if !table.differenceCounts.isEmpty, table.state != .noPrimaryKey { text += "\n  " + totals(table.differenceCounts) }
        for difference in table.differences {
            text += "\n  " + describe(difference, keyColumns: table.keyColumns)
        }
        let shown = table.differences.reduce(Int64(0)) { $0 + $1.rows }
        if table.differenceCount > shown {
            text += "\n  … and \(count(table.differenceCount - shown)) more rows"
        }
        return text
    }

    /// The rows differing per kind, e.g. `10,001 missing on target, 1 extra on target, 2 differing`.
    static func totals(_ counts: [DifferenceKind: Int64]) -> String {
        let kinds: [(DifferenceKind, String)] = [(.missingOnTarget, "missing on target"), (.extraOnTarget, "extra on target"), (.differs, "differing")]
        return kinds.compactMap { kind, name in counts[kind].map { "\(count($0)) \(name)" } }.joined(separator: ", ")
    }

    /// A count with thousands separators: 10,000.
    static func count(_ value: Int64) -> String {
        let digits = String(value.magnitude)
        let groups = stride(from: digits.count, to: 0, by: -3).reversed().map { end in
            String(digits[digits.index(digits.startIndex, offsetBy: max(0, end - 3))..<digits.index(digits.startIndex, offsetBy: end)])
        }
        return (value < 0 ? "-" : "") + groups.joined(separator: ",")
    }

    static func describe(_ difference: RowDifference, keyColumns: [String]) -> String {
        var key = keyText(difference.key)
        if let last = difference.lastKey?.first.flatMap({ $0 }), let first = difference.key.first.flatMap({ $0 }) {
            key = "\(keyColumns.first ?? "key") \(first)–\(last) (\(count(difference.rows)) rows)"
        }
        switch difference.kind {
        case .missingOnTarget: return "missing on target: \(key)"
        case .extraOnTarget: return "extra on target:   \(key)"
        case .differs:
            let values = difference.columns.indices.map {
                "\(difference.columns[$0]): \(show(difference.sourceValues[$0])) ≠ \(show(difference.targetValues[$0]))"
            }
            return "differs:           \(key) \(values.joined(separator: ", "))"
        }
    }

    /// The key as DMS writes it in awsdms_validation_failures_v1: `{"key":["3451491"]}`.
    static func keyText(_ key: [String?]) -> String {
        "{\"key\":[" + key.map { $0.map(JSONText.quoted) ?? "null" }.joined(separator: ",") + "]}"
    }

    static func show(_ value: String?) -> String {
        guard let value else { return "NULL" }
        return value.count > 60 ? "'\(value.prefix(57))…'" : "'\(value)'"
    }

    static func summary(_ tables: [TableValidation]) -> String {
        let matching = tables.filter(\.matches).count
        let differing = tables.filter { $0.state == .mismatchedRecords }.count
        let errors = tables.filter { $0.state == .tableError }.count
        var text = "\(matching) of \(tables.count) tables match"
        if differing > 0 { text += ", \(differing) differ" }
        if errors > 0 { text += ", \(errors) could not be compared" }
        return text
    }

    private struct JSONReport: Encodable {
        var ok: Bool
        var tables: [JSONTable]
    }

    private struct JSONTable: Encodable {
        var source: String
        var target: String
        var state: String
        var sourceRows: Int64
        var targetRows: Int64
        var differenceCount: Int64
        /// Rows differing per kind (MISSING_TARGET, MISSING_SOURCE, RECORD_DIFF).
        var differenceCounts: [String: Int64]
        var differences: [JSONDifference]
        var rowsFetched: Int64
        var verdictSeconds: Double
        var seconds: Double
        var repairedRows: Int64?
        var error: String?
    }

    private struct JSONDifference: Encodable {
        var type: String
        var key: [String?]
        /// A run's last key and its row count.
        var lastKey: [String?]?
        var rows: Int64
        var columns: [String: [String?]]?
    }

    static func json(_ tables: [TableValidation]) -> String {
        let report = JSONReport(ok: !tables.isEmpty && tables.allSatisfy(\.matches), tables: tables.map { table in
            JSONTable(source: "\(table.source)", target: "\(table.target)", state: table.state.rawValue,
                      sourceRows: table.sourceRows, targetRows: table.targetRows, differenceCount: table.differenceCount,
                      differenceCounts: Dictionary(uniqueKeysWithValues: table.differenceCounts.map { ($0.key.rawValue, $0.value) }),
                      differences: table.differences.map { d in
                          JSONDifference(type: d.kind.rawValue, key: d.key, lastKey: d.lastKey, rows: d.rows, columns: d.kind == .differs
                              ? Dictionary(uniqueKeysWithValues: d.columns.indices.map { (d.columns[$0], [d.sourceValues[$0], d.targetValues[$0]]) })
                              : nil)
                      },
                      rowsFetched: table.rowsFetched, verdictSeconds: table.verdictSeconds, seconds: table.seconds, repairedRows: table.repairedRows, error: table.error)
        })
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return String(decoding: (try? encoder.encode(report)) ?? Data(), as: UTF8.self)
    }
}
