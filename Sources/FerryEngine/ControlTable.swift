import FerryCore
import Foundation

/// DMS's control tables on the target (`awsdms_validation_failures_v1`, `awsdms_apply_exceptions`):
/// where they live, their columns in each engine's types, and appending rows to them.
enum ControlTable {
    /// The schema DMS uses when `ControlSchema` is empty: `public` on PostgreSQL, `awsdms_control` on MySQL.
    static func defaultSchema(for engine: EngineKind) -> String {
        switch engine {
        case .postgres: return "public"
        case .mysql: return "awsdms_control"
        case .sqlite: return "main"
        }
    }

    /// A column of a control table in `engine`'s types: a timestamp to the millisecond, a long text, or
    /// `varchar(length)`.
    enum Kind {
        case time
        case text
        case varchar(Int)
    }

    static func column(_ name: String, _ kind: Kind, engine: EngineKind, nullable: Bool = true) -> Column {
        switch kind {
        case .time:
            let native = engine == .mysql ? "datetime(3)" : (engine == .sqlite ? "DATETIME" : "timestamp(3)")
            return Column(name: name, type: .timestamp(precision: 3), nativeType: native, nullable: nullable)
        case .text:
            return Column(name: name, type: .text, nativeType: engine == .mysql ? "longtext" : "text", nullable: nullable)
        case let .varchar(length):
            return Column(name: name, type: .varchar(length: length), nativeType: "varchar(\(length))", nullable: nullable)
        }
    }

    /// The columns every DMS control table begins with: TASK_NAME, TABLE_OWNER, TABLE_NAME.
    static func taskColumns(engine: EngineKind) -> [Column] {
        [column("TASK_NAME", .varchar(128), engine: engine, nullable: false),
         column("TABLE_OWNER", .varchar(128), engine: engine),
         column("TABLE_NAME", .varchar(128), engine: engine)]
    }

    /// The table `name` in `controlSchema` (empty: the engine's default) as `target` names it.
    static func id(_ name: String, controlSchema: String, target: any TargetConnector) -> TableID {
        target.normalize(TableID(schema: controlSchema.isEmpty ? defaultSchema(for: target.engine) : controlSchema, name: name))
    }

    /// Appends `rows` to the table `schema` describes, creating it when it does not exist. Blocking.
    static func append(_ rows: [[Value]], to schema: TableSchema, target: any TargetConnector) throws {
        guard !rows.isEmpty else { return }
        let plan = TablePlan(identity: schema)
        do {
            try target.prepare(plan, mode: .doNothing, related: [:])
        } catch let error as FerryError where error.kind == .notFound {
            try target.prepare(plan, mode: .dropAndCreate, related: [:])
        }
        let pipe = BatchPipe(capacity: 2)
        try pipe.send(.rows(rows))
        pipe.finish()
        _ = try target.load(plan, encoding: .values, from: pipe) { _ in }
    }
}
