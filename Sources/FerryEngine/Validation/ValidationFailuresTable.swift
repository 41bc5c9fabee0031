import FerryCore
import Foundation

/// DMS's `awsdms_validation_failures_v1` on the target: one row per differing row, appended on every
/// validation, with DMS's columns (TASK_NAME, TABLE_OWNER, TABLE_NAME, FAILURE_TIME, KEY_TYPE, KEY,
/// FAILURE_TYPE, DETAILS).
public enum ValidationFailuresTable {
    public static let name = "awsdms_validation_failures_v1"

    /// The schema DMS uses when `ControlSchema` is empty: `public` on PostgreSQL, `awsdms_control` on MySQL.
    public static func defaultSchema(for engine: EngineKind) -> String {
        switch engine {
        case .postgres: return "public"
        case .mysql: return "awsdms_control"
        case .sqlite: return "main"
        }
    }

    /// The table's definition in the target engine's own types.
    static func schema(_ id: TableID, engine: EngineKind) -> TableSchema {
        func column(_ name: String, _ type: ColumnType, _ native: String) -> Column {
            Column(name: name, type: type, nativeType: native, nullable: name != "TASK_NAME")
        }
        let time = engine == .mysql ? "datetime(3)" : (engine == .sqlite ? "DATETIME" : "timestamp(3)")
        return TableSchema(id: id, engine: engine, columns: [
            column("TASK_NAME", .varchar(length: 128), "varchar(128)"),
            column("TABLE_OWNER", .varchar(length: 128), "varchar(128)"),
            column("TABLE_NAME", .varchar(length: 128), "varchar(128)"),
            column("FAILURE_TIME", .timestamp(precision: 3), time),
            column("KEY_TYPE", .varchar(length: 128), "varchar(128)"),
            column("KEY", .text, engine == .mysql ? "longtext" : "text"),
            column("FAILURE_TYPE", .varchar(length: 128), "varchar(128)"),
            column("DETAILS", .varchar(length: 8000), "varchar(8000)"),
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

    /// DMS's DETAILS form, `[[{'COL': 'source'}, {'COL': 'target'}],]`, cut to the column's 8000 characters.
    static func details(_ difference: RowDifference) -> String {
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
        let id = target.normalize(TableID(schema: controlSchema.isEmpty ? defaultSchema(for: target.engine) : controlSchema, name: name))
        let plan = TablePlan(identity: schema(id, engine: target.engine))
        try await BlockingWork.run("ferry-validation-failures") {
            do {
                try target.prepare(plan, mode: .doNothing, related: [:])
            } catch let error as FerryError where error.kind == .notFound {
                try target.prepare(plan, mode: .dropAndCreate, related: [:])
            }
            let pipe = BatchPipe(capacity: 2)
            try pipe.send(.rows(failures))
            pipe.finish()
            _ = try target.load(plan, encoding: .values, from: pipe) { _ in }
        }
    }

    private static let timestampFormatter: DateFormatter = {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd HH:mm:ss.SSS"
        return formatter
    }()
}
