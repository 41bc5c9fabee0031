import FerryCore
import Foundation

/// DMS's `awsdms_validation_failures_v1` on the target: one row per differing row, appended on every
/// validation, with DMS's columns (TASK_NAME, TABLE_OWNER, TABLE_NAME, FAILURE_TIME, KEY_TYPE, KEY,
/// FAILURE_TYPE, DETAILS).
public enum ValidationFailuresTable {
    public static let name = ControlTableNames.validationFailures

    /// The table's definition in the target engine's own types.
    static func schema(_ id: TableID, engine: EngineKind) -> TableSchema {
        TableSchema(id: id, engine: engine, columns: ControlTable.taskColumns(engine: engine) + [
            ControlTable.column("FAILURE_TIME", .time, engine: engine),
            ControlTable.column("KEY_TYPE", .varchar(128), engine: engine),
            ControlTable.column("KEY", .text, engine: engine),
            ControlTable.column("FAILURE_TYPE", .varchar(128), engine: engine),
            ControlTable.column("DETAILS", .varchar(8000), engine: engine),
        ], primaryKey: [])
    }

    /// The rows recording one table's differences (at most the ones the validation kept).
    static func rows(task: String, _ result: TableValidation, at time: Date) -> [[Value]] {
        let stamp = timestampFormatter.string(from: time)
        return result.differences.map { difference in
            let key = "{\"key\":[" + difference.key.map { $0.map(JSONText.quoted) ?? "null" }.joined(separator: ",") + "]}"
            return [.text(task), .text(result.source.schema), .text(result.source.name), .text(stamp), .text("Row"), .text(key),
                    .text(difference.kind.rawValue), .text(details(difference))]
        }
    }

    /// DMS's DETAILS form, `[[{'COL': 'source'}, {'COL': 'target'}],]`, cut to the column's 8000 characters;
    /// for a run of missing keys, where it ends: `[{'last key': ['210000'], 'rows': 10000}]`.
    static func details(_ difference: RowDifference) -> String {
        if let last = difference.lastKey {
            return "[{'last key': [\(last.map { $0.map { "'\($0)'" } ?? "NULL" }.joined(separator: ", "))], 'rows': \(difference.rows)}]"
        }
        guard difference.kind == .differs else { return "" }
        func side(_ values: [String?]) -> String {
            "{" + zip(difference.columns, values).map { "'\($0)': \($1.map { "'\($0)'" } ?? "NULL")" }.joined(separator: ", ") + "}"
        }
        let text = "[[\(side(difference.sourceValues)), \(side(difference.targetValues))],]"
        return text.count > 8000 ? String(text.prefix(7999)) + "…" : text
    }

    /// Appends the differences of `results` to the failures table in `controlSchema` (empty: the engine's
    /// default), creating the table when it does not exist.
    public static func append(_ results: [TableValidation], task: String, controlSchema: String, target: any TargetConnector) async throws {
        let failures = results.flatMap { rows(task: task, $0, at: Date()) }
        guard !failures.isEmpty else { return }
        let schema = schema(ControlTable.id(name, controlSchema: controlSchema, target: target), engine: target.engine)
        try await BlockingWork.run("ferry-validation-failures") { try ControlTable.append(failures, to: schema, target: target) }
    }

    private static let timestampFormatter: DateFormatter = {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd HH:mm:ss.SSS"
        return formatter
    }()
}
