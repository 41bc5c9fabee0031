import FerryCore
import Foundation

/// DMS's `awsdms_apply_exceptions` on the target: one row per row skipped under
/// `DataErrorPolicy` LOG_ERROR, with DMS's columns (TASK_NAME, TABLE_OWNER, TABLE_NAME, ERROR_TIME,
/// STATEMENT, ERROR). STATEMENT holds the skipped row as JSON, ERROR what the target or the
/// transformation said.
public enum ApplyExceptionsTable {
    public static let name = ControlTableNames.applyExceptions

    /// One skipped row.
    public struct Record: Sendable, Equatable {
        public var table: TableID
        public var row: String
        public var error: String
        public var time: Date

        public init(table: TableID, row: String, error: String, time: Date = Date()) {
            self.table = table
            self.row = row
            self.error = error
            self.time = time
        }
    }

    /// A row as JSON text, by column name, for the STATEMENT column.
    public static func describe(_ row: [Value?], columns: [String]) -> String {
        "{" + zip(columns, row).map { name, value in
            JSONText.quoted(name) + ": " + (value?.textForm.map(JSONText.quoted) ?? "null")
        }.joined(separator: ", ") + "}"
    }

    static func schema(_ id: TableID, engine: EngineKind) -> TableSchema {
        TableSchema(id: id, engine: engine, columns: ControlTable.taskColumns(engine: engine) + [
            ControlTable.column("ERROR_TIME", .time, engine: engine),
            ControlTable.column("STATEMENT", .text, engine: engine),
            ControlTable.column("ERROR", .text, engine: engine),
        ], primaryKey: [])
    }

    /// Appends `records` to the table in `controlSchema` (empty: the engine's default), creating it when
    /// it does not exist. Blocking.
    public static func append(_ records: [Record], task: String, controlSchema: String, target: any TargetConnector) throws {
        let rows: [[Value]] = records.map { record in
            [.text(task), .text(record.table.schema), .text(record.table.name),
             .text(TemporalText.utcText(of: record.time)), .text(record.row), .text(record.error)]
        }
        try ControlTable.append(rows, to: schema(ControlTable.id(name, controlSchema: controlSchema, target: target), engine: target.engine), target: target)
    }
}
