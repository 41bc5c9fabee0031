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
        for difference in table.differences {
            text += "\n  " + describe(difference)
        }
        if table.differenceCount > Int64(table.differences.count) {
            text += "\n  … and \(table.differenceCount - Int64(table.differences.count)) more"
        }
        return text
    }

    static func describe(_ difference: RowDifference) -> String {
        let key = keyText(difference.key)
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
        var columns: [String: [String?]]?
    }

    static func json(_ tables: [TableValidation]) -> String {
        let report = JSONReport(ok: !tables.isEmpty && tables.allSatisfy(\.matches), tables: tables.map { table in
            JSONTable(source: "\(table.source)", target: "\(table.target)", state: table.state.rawValue,
                      sourceRows: table.sourceRows, targetRows: table.targetRows, differenceCount: table.differenceCount,
                      differences: table.differences.map { d in
                          JSONDifference(type: d.kind.rawValue, key: d.key, columns: d.kind == .differs
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
