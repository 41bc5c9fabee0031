import FerryCore
import Foundation

/// DMS's `awsdms_apply_exceptions` on the target: one row per row skipped under
/// `DataErrorPolicy` LOG_ERROR, with DMS's columns (TASK_NAME, TABLE_OWNER, TABLE_NAME, ERROR_TIME,
/// STATEMENT, ERROR). STATEMENT holds the skipped row as JSON, ERROR what the target or the
/// transformation said.
public enum ApplyExceptionsTable {
    public static let name = "awsdms_apply_exceptions"

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
        let time = engine == .mysql ? "datetime(3)" : (engine == .sqlite ? "DATETIME" : "timestamp(3)")
        let text = engine == .mysql ? "longtext" : "text"
        return TableSchema(id: id, engine: engine, columns: [
            Column(name: "TASK_NAME", type: .varchar(length: 128), nativeType: "varchar(128)", nullable: false),
            Column(name: "TABLE_OWNER", type: .varchar(length: 128), nativeType: "varchar(128)", nullable: true),
            Column(name: "TABLE_NAME", type: .varchar(length: 128), nativeType: "varchar(128)", nullable: true),
            Column(name: "ERROR_TIME", type: .timestamp(precision: 3), nativeType: time, nullable: true),
            Column(name: "STATEMENT", type: .text, nativeType: text, nullable: true),
            Column(name: "ERROR", type: .text, nativeType: text, nullable: true),
        ], primaryKey: [])
    }

    /// Appends `records` to the table in `controlSchema` (empty: the engine's default, as for the
    /// validation failures table), creating it when it does not exist. Blocking.
    public static func append(_ records: [Record], task: String, controlSchema: String, target: any TargetConnector) throws {
        guard !records.isEmpty else { return }
        let schema = controlSchema.isEmpty ? ValidationFailuresTable.defaultSchema(for: target.engine) : controlSchema
        let plan = TablePlan(identity: self.schema(target.normalize(TableID(schema: schema, name: name)), engine: target.engine))
        do {
            try target.prepare(plan, mode: .doNothing, related: [:])
        } catch let error as FerryError where error.kind == .notFound {
            try target.prepare(plan, mode: .dropAndCreate, related: [:])
        }
        let pipe = BatchPipe(capacity: 2)
        try pipe.send(.rows(records.map { record in
            [.text(task), .text(record.table.schema), .text(record.table.name),
             .text(TemporalText.utcText(of: record.time)), .text(record.row), .text(record.error)]
        }))
        pipe.finish()
        _ = try target.load(plan, encoding: .values, from: pipe) { _ in }
    }
}
