import FerryEngine
import Foundation

/// The end-of-load summary as a text table or JSON.
enum SummaryReport {
    /// `warnings` are the load's own (not a table's): mapping rules with a wildcard that matched nothing.
    static func text(tables: [TableProgress], warnings: [String] = [], interrupted: Bool) -> String {
        let header = ["table", "target", "rows", "seconds", "rows/s", "state"]
        let rows = tables.map { t in
            [t.source.description, t.target.description, String(t.rowsLoaded), String(format: "%.2f", t.seconds()),
             String(format: "%.0f", t.rowsPerSecond()), t.state.rawValue]
        }
        let widths = header.indices.map { i in ([header[i]] + rows.map { $0[i] }).map(\.count).max() ?? 0 }
        func format(_ cells: [String]) -> String {
            cells.enumerated().map { i, cell in i >= 2 && i <= 4 ? String(repeating: " ", count: widths[i] - cell.count) + cell : cell.padding(toLength: widths[i], withPad: " ", startingAt: 0) }
                .joined(separator: "  ")
        }
        var out = "\n" + format(header) + "\n" + widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ") + "\n"
        out += rows.map(format).joined(separator: "\n") + "\n"
        let failed = tables.filter { $0.state != .completed }
        out += warnings.map { "warning: \($0)\n" }.joined()
        for t in tables where !t.warnings.isEmpty {
            out += t.warnings.map { "warning: \($0)\n" }.joined()
        }
        for t in failed {
            out += "\(t.state == .cancelled ? "unfinished" : "failed"): \(t.source): \(t.error ?? t.state.rawValue)\n"
        }
        let total = tables.reduce(Int64(0)) { $0 + $1.rowsLoaded }
        out += "\(tables.count - failed.count) of \(tables.count) tables loaded, \(total) rows"
        if interrupted { out += "; stopped by request: unfinished tables are listed above and must be reloaded" }
        return out
    }

    struct JSONSummary: Encodable {
        var ok: Bool
        var error: String?
        var warnings: [String]
        var tables: [JSONTable]
    }

    struct JSONTable: Encodable {
        var source: String
        var target: String
        var state: String
        var rows: Int64
        var seconds: Double
        var rowsPerSecond: Double
        var passthrough: Bool
        var error: String?
        var warnings: [String]
    }

    static func json(tables: [TableProgress], warnings: [String] = [], error: String?) -> String {
        let summary = JSONSummary(
            ok: error == nil && !tables.isEmpty && tables.allSatisfy { $0.state == .completed }, error: error, warnings: warnings,
            tables: tables.map {
                JSONTable(source: $0.source.description, target: $0.target.description, state: $0.state.rawValue,
                          rows: $0.rowsLoaded, seconds: $0.seconds(), rowsPerSecond: $0.rowsPerSecond(),
                          passthrough: $0.passthrough, error: $0.error, warnings: $0.warnings)
            })
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return String(decoding: (try? encoder.encode(summary)) ?? Data(), as: UTF8.self)
    }
}
