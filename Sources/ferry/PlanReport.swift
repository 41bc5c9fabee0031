import FerryEngine
import Foundation

/// `ferry migrate --plan`: every selected table and column as it will land on the target, as text or JSON.
enum PlanReport {
    static func text(_ plan: LoadPlan) -> String {
        var out = ""
        for table in plan.tables {
            out += "\(table.source) -> \(table.target)" + rules(table.rules)
            if let error = table.error {
                out += ": cannot be loaded: \(error)\n"
                continue
            }
            out += table.primaryKey.isEmpty ? " (no primary key)\n" : "\n"
            let width = table.columns.map(\.definition.count).max() ?? 0
            for column in table.columns {
                var notes = column.key ? "  key" : ""
                if column.source.isEmpty { notes += "  added" } else if column.source != column.target { notes += "  from \(column.source)" }
                notes += rules(column.rules)
                out += "  " + (notes.isEmpty ? column.definition : column.definition.padding(toLength: width, withPad: " ", startingAt: 0) + notes) + "\n"
            }
        }
        out += plan.warnings.map { "warning: \($0)\n" }.joined()
        let loadable = plan.tables.filter { $0.error == nil }.count
        out += "\(loadable) of \(plan.tables.count) tables can be loaded; nothing was written"
        return out
    }

    private static func rules(_ ids: [String]) -> String {
        ids.isEmpty ? "" : "  (rule\(ids.count == 1 ? "" : "s") \(ids.joined(separator: ", ")))"
    }

    static func json(_ plan: LoadPlan) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return String(decoding: (try? encoder.encode(plan)) ?? Data(), as: UTF8.self)
    }
}
