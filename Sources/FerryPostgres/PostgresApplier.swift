import FerryCore
import Foundation

/// Applies change batches to PostgreSQL: one transaction per batch holding the deletes, the upserts
/// (`INSERT … ON CONFLICT DO UPDATE`: VALUES lists, or a COPY into a stage for many rows, ``PostgresStages``)
/// and the task's row in `ferry_apply_status`.
final class PostgresApplier: ChangeApplier, @unchecked Sendable {
    private let conn: PGConnection
    private let status: TableID
    private let progress: TableID
    private let url: ConnectionURL
    /// The claim every transaction checks first (``claim(task:)``).
    private var owner: (task: String, epoch: Int64)?
    /// The chunk claim every transaction checks too (``hold(chunk:)``).
    private var chunk: ChunkFence?
    /// True while batches that end inside a source transaction hold the target transaction open.
    private var transactionOpen = false
    var undoesRefusedBatchesAlone = false
    /// The temporary tables large upserts go through.
    private var stages = PostgresStages()
    /// The SQLSTATE of the fence's refusal, raised by the check that opens each transaction.
    static let fencedState = "FY001"

    init(url: ConnectionURL, controlSchema: String) throws {
        self.url = url
        conn = try PGConnection(url)
        status = Self.statusTable(controlSchema: controlSchema)
        progress = TableID(schema: status.schema, name: ControlTableNames.loadProgress)
        // The transaction a large source transaction holds open waits between parts only as long as its next
        // part takes to read. One left idle longer belongs to a run that is gone (its node cut off): the server
        // ends it, so that the row lock it holds does not keep the next run's claim waiting.
        try conn.execute("""
            \(PostgresWriteFence.applierSetting);
            SET idle_in_transaction_session_timeout = '60s';
            CREATE SCHEMA IF NOT EXISTS \(PGConnection.quote(status.schema));
            CREATE TABLE IF NOT EXISTS \(PGConnection.quote(status)) (task_name varchar(255) PRIMARY KEY,
              source_position varchar(255) NOT NULL, source_commit_time timestamptz, applied_at timestamptz NOT NULL);
            ALTER TABLE \(PGConnection.quote(status)) ADD COLUMN IF NOT EXISTS epoch bigint NOT NULL DEFAULT 0;
            CREATE TABLE IF NOT EXISTS \(PGConnection.quote(progress)) (task_name varchar(255), table_name text, chunk_index int,
              detail text NOT NULL, PRIMARY KEY (task_name, table_name, chunk_index))
            """)
    }

    func appliedPosition(task: String) throws -> String? {
        try conn.query("SELECT source_position FROM \(PGConnection.quote(status)) WHERE task_name = \(PGConnection.literal(task)) AND source_position <> ''")
            .first?[0] ?? nil
    }

    /// The upsert waits for the row lock an earlier run's transaction holds, so that one commits first or is refused.
    func claim(task: String) throws -> Int64 {
        let rows = try conn.query("""
            INSERT INTO \(PGConnection.quote(status)) AS s (task_name, source_position, applied_at, epoch) VALUES (\(PGConnection.literal(task)), '', now(), 1)
            ON CONFLICT (task_name) DO UPDATE SET epoch = s.epoch + 1 RETURNING epoch
            """)
        guard let text = rows.first?[0] ?? nil, let epoch = Int64(text) else { throw FerryError(.database, "PostgreSQL \(url.location): claiming task \(task) returned no epoch") }
        owner = (task, epoch)
        return epoch
    }

    func hold(task: String, epoch: Int64) {
        owner = (task, epoch)
    }

    func claimChunk(_ fence: ChunkFence) throws {
        try commit("BEGIN;\n" + fenceCheck(lock: "FOR SHARE"))
        do {
            let rows = try conn.query("""
                INSERT INTO \(PGConnection.quote(status)) AS s (task_name, source_position, applied_at, epoch) VALUES (\(PGConnection.literal(fence.key)), '', now(), \(fence.epoch))
                ON CONFLICT (task_name) DO UPDATE SET epoch = greatest(s.epoch, EXCLUDED.epoch) RETURNING epoch
                """)
            try conn.execute("COMMIT")
            guard (rows.first?[0] ?? nil).flatMap({ Int64($0) }) == fence.epoch else { throw FerryError.fenced(task: fence.key, epoch: fence.epoch) }
        } catch {
            try? conn.execute("ROLLBACK")
            throw error
        }
    }

    func hold(chunk: ChunkFence?) {
        self.chunk = chunk
    }

    func verifyClaim() throws {
        guard let owner else { return }
        let current = try conn.query("SELECT epoch FROM \(PGConnection.quote(status)) WHERE task_name = \(PGConnection.literal(owner.task))").first?[0] ?? nil
        guard current.flatMap({ Int64($0) }) == owner.epoch else { throw FerryError.fenced(task: owner.task, epoch: owner.epoch) }
    }

    /// Locks the task's row (and the chunk's, when it holds one) with `lock` and refuses the transaction
    /// unless they still hold this run's epochs.
    private func fenceCheck(lock: String) -> String {
        guard let owner else { return "" }
        let claims = ChunkFence.claims(task: owner.task, epoch: owner.epoch, chunk: chunk)
        return claims.map { Self.fenceCheck(status: status, task: $0.0, epoch: $0.1, lock: lock) }.joined()
    }

    /// `ferry_apply_status` in the control schema (public by default).
    static func statusTable(controlSchema: String) -> TableID {
        TableID(schema: controlSchema.isEmpty ? "public" : controlSchema, name: ApplyStatements.statusTable)
    }

    /// A statement that locks the task's row (`lock`: FOR UPDATE for the changes, which commit in order;
    /// FOR SHARE for a load's parallel chunks) and raises ``fencedState`` unless it holds `epoch`.
    static func fenceCheck(status: TableID, task: String, epoch: Int64, lock: String) -> String {
        """
        DO $ferry_fence$ BEGIN
          PERFORM 1 FROM \(PGConnection.quote(status)) WHERE task_name = \(PGConnection.literal(task)) AND epoch = \(epoch) \(lock);
          IF NOT FOUND THEN RAISE EXCEPTION 'fenced' USING ERRCODE = '\(fencedState)'; END IF;
        END $ferry_fence$;

        """
    }

    func loadProgress(task: String) throws -> [LoadProgressRow] {
        try conn.query("SELECT table_name, chunk_index, detail FROM \(PGConnection.quote(progress)) WHERE task_name = \(PGConnection.literal(task))")
            .compactMap { row in Int(row[1] ?? "").map { LoadProgressRow(table: row[0] ?? "", chunk: $0, detail: row[2] ?? "") } }
    }

    func saveLoadProgress(_ rows: [LoadProgressRow], task: String, replacing: LoadProgressRow.Scope) throws {
        let table = PGConnection.quote(progress), name = PGConnection.literal(task)
        var sql = "BEGIN;\n" + fenceCheck(lock: "FOR SHARE")
        switch replacing {
        case .none: break
        case let .table(key): sql += "DELETE FROM \(table) WHERE task_name = \(name) AND table_name = \(PGConnection.literal(key));\n"
        case .task: sql += "DELETE FROM \(table) WHERE task_name = \(name);\n"
        }
        for row in rows {
            sql += "INSERT INTO \(table) VALUES (\(name), \(PGConnection.literal(row.table)), \(row.chunk), \(PGConnection.literal(row.detail))) "
                + "ON CONFLICT (task_name, table_name, chunk_index) DO UPDATE SET detail = EXCLUDED.detail;\n"
        }
        try commit(sql + "COMMIT;")
    }

    func deleteSegment(_ index: Int, of segments: RangeSegments, from plan: TablePlan) throws {
        let predicate = try segments.targetPredicate(index, in: plan, quote: PGConnection.quote, literal: PGConnection.literal)
        try commit("BEGIN;\n" + fenceCheck(lock: "FOR SHARE") + "DELETE FROM \(PGConnection.quote(plan.target)) WHERE \(predicate);\nCOMMIT;")
    }

    func forget(task: String) throws {
        for table in [status, progress] {
            try conn.execute("DELETE FROM \(PGConnection.quote(table)) WHERE task_name = \(PGConnection.literal(task))")
        }
        try conn.execute("DELETE FROM \(PGConnection.quote(status)) WHERE starts_with(task_name, \(PGConnection.literal(ChunkFence.prefix(task: task))))")
    }

    func alter(_ plan: TablePlan, _ change: SchemaChange) throws {
        let table = PGConnection.quote(plan.target)
        switch change.kind {
        case let .addColumn(column):
            let definition = try PostgresTarget(url: url).columnDefinition(ColumnPlan(source: column, targetName: column.name), plan: plan, creatingTypesOn: conn)
            try conn.execute("ALTER TABLE \(table) ADD COLUMN IF NOT EXISTS \(definition)")
        case let .dropColumn(name):
            guard let target = plan.targetName(ofSource: name) else { return }
            try conn.execute("ALTER TABLE \(table) DROP COLUMN IF EXISTS \(PGConnection.quote(target))")
        case .unsupported:
            break
        }
    }

    func apply(_ batch: ChangeBatch, task: String?) throws {
        guard let position = batch.position else { return }
        let step = BatchTransaction(batch, open: transactionOpen, savepoints: undoesRefusedBatchesAlone)
        try run(step) {
            var sql = step.begins ? "BEGIN;\n" + fenceCheck(lock: "FOR UPDATE") : ""
            if step.guarded { sql += "SAVEPOINT \(BatchTransaction.savepoint);\n" }
            for (plan, changes) in batch.tables {
                let table = PGConnection.quote(plan.target)
                let key = plan.targetPrimaryKey.map(PGConnection.quote)
                let keyTypes = plan.source.primaryKey.compactMap { name in plan.columns.first { $0.source.name == name }?.source.type }
                let types = plan.columns.map(\.source.type)
                if changes.truncateFirst { sql += "TRUNCATE \(table);\n" }
                for slice in ApplyStatements.deleteSlices(changes.deletes) {
                    let tuples = try slice.map { values in "(" + (try zip(values, keyTypes).map { try literal($0, $1, table: table) }).joined(separator: ", ") + ")" }
                    sql += "DELETE FROM \(table) WHERE (\(key.joined(separator: ", "))) IN (\(tuples.joined(separator: ", ")));\n"
                }
                for (columns, rows) in ApplyStatements.upsertGroups(changes.upserts, rowsPerStatement: max(1, changes.upserts.count)) {
                    let targetNames = columns.map { plan.columns[$0].targetName }
                    let names = targetNames.map(PGConnection.quote).joined(separator: ", ")
                    let updates = targetNames.map(PGConnection.quote).filter { !key.contains($0) }.map { "\($0) = EXCLUDED.\($0)" }
                    let conflict = " ON CONFLICT (\(key.joined(separator: ", "))) "
                        + (updates.isEmpty ? "DO NOTHING;\n" : "DO UPDATE SET \(updates.joined(separator: ", "));\n")
                    guard rows.count < PostgresStages.minimumRows else {
                        let stage = stages.prepare(plan.target, columns: targetNames)
                        try conn.execute(sql + stage.sql)
                        try copy(rows, types: columns.map { types[$0] }, into: stage.name, table: table)
                        sql = "INSERT INTO \(table) (\(names)) SELECT \(names) FROM \(stage.name)" + conflict
                        continue
                    }
                    for slice in stride(from: 0, to: rows.count, by: 500).map({ rows[$0..<min($0 + 500, rows.count)] }) {
                        let values = try slice.map { row in
                            "(" + (try zip(columns, row).map { try literal($1, types[$0], table: table) }).joined(separator: ", ") + ")"
                        }
                        sql += "INSERT INTO \(table) (\(names)) VALUES \(values.joined(separator: ", "))" + conflict
                    }
                }
            }
            if step.guarded { sql += "RELEASE SAVEPOINT \(BatchTransaction.savepoint);\n" }
            if step.commits, let task {
                let commitTime = batch.commitTime.map { "to_timestamp(\(String(format: "%.6f", $0.timeIntervalSince1970)))" } ?? "NULL"
                sql += """
                    INSERT INTO \(PGConnection.quote(status)) (task_name, source_position, source_commit_time, applied_at)
                    VALUES (\(PGConnection.literal(task)), \(PGConnection.literal(position)), \(commitTime), now())
                    ON CONFLICT (task_name) DO UPDATE SET source_position = EXCLUDED.source_position,
                      source_commit_time = EXCLUDED.source_commit_time, applied_at = EXCLUDED.applied_at;

                    """
            }
            try conn.execute(sql + (step.commits ? "COMMIT;" : ""))
        }
    }

    /// Sends `rows` into `stage` with one COPY, in COPY's text format.
    private func copy(_ rows: [[Value]], types: [ColumnType], into stage: String, table: String) throws {
        try conn.copyIn("COPY \(stage) FROM STDIN") { send in
            var buffer: [UInt8] = []
            buffer.reserveCapacity(1 << 16)
            for row in rows {
                for (index, (value, type)) in zip(row, types).enumerated() {
                    if index > 0 { buffer.append(UInt8(ascii: "\t")) }
                    try PostgresValueCodec.encode(value, as: type, column: table, into: &buffer)
                }
                buffer.append(UInt8(ascii: "\n"))
                if buffer.count >= 1 << 16 {
                    try buffer.withUnsafeBytes(send)
                    buffer.removeAll(keepingCapacity: true)
                }
            }
            try buffer.withUnsafeBytes(send)
        }
    }

    /// Runs one batch's statements (``BatchTransaction``): on failure, rolls back to the batch's savepoint
    /// when it can, otherwise the whole transaction.
    private func run(_ step: BatchTransaction, _ statements: () throws -> Void) throws {
        do {
            try statements()
            transactionOpen = !step.commits
            if step.commits { stages.transactionEnded() }
        } catch {
            let restored = step.mayUndoAlone(error)
                && (try? conn.execute("ROLLBACK TO SAVEPOINT \(BatchTransaction.savepoint)")) != nil
            if !restored {
                try? conn.execute("ROLLBACK")
                stages.transactionEnded()
            }
            let outcome = step.outcome(of: error, restored: restored)
            transactionOpen = outcome.open
            if let owner, (outcome.error as? FerryError)?.kind == .fenced { throw FerryError.fenced(task: owner.task, epoch: owner.epoch) }
            throw outcome.error
        }
    }

    func rollback() {
        guard transactionOpen else { return }
        try? conn.execute("ROLLBACK")
        transactionOpen = false
        stages.transactionEnded()
    }

    /// Runs a transaction's statements; a refusal by the fence throws `.fenced` naming the claim.
    private func commit(_ sql: String) throws {
        do { try conn.execute(sql) } catch {
            try? conn.execute("ROLLBACK")
            if let owner, let error = error as? FerryError, error.kind == .fenced { throw FerryError.fenced(task: owner.task, epoch: owner.epoch) }
            throw error
        }
    }

    func close() {}

    /// A value as a SQL literal of its column's type. `table` names the table in errors.
    private func literal(_ value: Value, _ type: ColumnType, table: String) throws -> String {
        switch (value, type) {
        case (.null, _): return "NULL"
        case let (.int(v), .integer), let (.int(v), .decimal): return String(v)
        case let (.text(text), _):
            try PostgresValueCodec.requireStorable(text, column: table)
            return PGConnection.literal(text)
        default:
            var bytes: [UInt8] = []
            try PostgresValueCodec.encode(value, as: type, column: table, into: &bytes)
            // The COPY text form, unescaped, is the value's input text.
            return PGConnection.literal(utf8: CopyTextCodec.decodeRow(bytes.withUnsafeBytes { $0 })[0] ?? [])
        }
    }
}
