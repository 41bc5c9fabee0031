import FerryCore
import Foundation

/// Applies change batches to MySQL/MariaDB: one transaction per batch holding the deletes, multi-row
/// `INSERT … ON DUPLICATE KEY UPDATE` upserts and the task's row in `ferry_apply_status`. Foreign-key
/// checks are off in this session, as the source already enforced them.
final class MySQLApplier: ChangeApplier, @unchecked Sendable {
    private let conn: MySQLConnection
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

    /// Where `ferry_apply_status` goes when the task names no control schema (DMS's `awsdms_control`).
    static let defaultControlSchema = "awsdms_control"

    /// Opens the applier on `url`; `controlSchema` is the database of `ferry_apply_status`.
    init(url: ConnectionURL, controlSchema: String) throws {
        self.url = url
        conn = try MySQLConnection(url, databaseMayBeMissing: true)
        status = TableID(schema: controlSchema, name: ApplyStatements.statusTable)
        progress = TableID(schema: controlSchema, name: ControlTableNames.loadProgress)
        try conn.execute("SET SESSION foreign_key_checks = 0")
        try conn.execute(MySQLWriteFence.applierSetting)
        try conn.execute("CREATE DATABASE IF NOT EXISTS \(MySQLConnection.quote(status.schema))")
        try conn.execute("""
            CREATE TABLE IF NOT EXISTS \(MySQLConnection.quote(status)) (task_name varchar(255) PRIMARY KEY,
              source_position varchar(255) NOT NULL, source_commit_time datetime(6), applied_at datetime(6) NOT NULL)
              ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin
            """)
        try conn.execute("""
            CREATE TABLE IF NOT EXISTS \(MySQLConnection.quote(progress)) (task_name varchar(255), table_name varchar(300), chunk_index int,
              detail text NOT NULL, PRIMARY KEY (task_name, table_name, chunk_index)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin
            """)
        // A table made before epochs were kept gets the column (MySQL 8 has no ADD COLUMN IF NOT EXISTS).
        if try conn.query("SELECT 1 FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = \(MySQLConnection.literal(status.schema)) "
            + "AND TABLE_NAME = \(MySQLConnection.literal(status.name)) AND COLUMN_NAME = 'epoch'").isEmpty {
            try conn.execute("ALTER TABLE \(MySQLConnection.quote(status)) ADD COLUMN epoch bigint NOT NULL DEFAULT 0")
        }
    }

    func appliedPosition(task: String) throws -> String? {
        try conn.query("SELECT source_position FROM \(MySQLConnection.quote(status)) WHERE task_name = \(MySQLConnection.literal(task)) AND source_position <> ''")
            .first?[0] ?? nil
    }

    /// The upsert waits for the row lock an earlier run's transaction holds, so that one commits first or is refused.
    func claim(task: String) throws -> Int64 {
        try conn.execute("START TRANSACTION")
        do {
            try conn.execute("""
                INSERT INTO \(MySQLConnection.quote(status)) (task_name, source_position, applied_at, epoch) VALUES (\(MySQLConnection.literal(task)), '', UTC_TIMESTAMP(6), 1)
                ON DUPLICATE KEY UPDATE epoch = epoch + 1
                """)
            let text = try conn.query("SELECT epoch FROM \(MySQLConnection.quote(status)) WHERE task_name = \(MySQLConnection.literal(task))").first?[0] ?? nil
            try conn.execute("COMMIT")
            guard let text, let epoch = Int64(text) else { throw FerryError(.database, "MySQL \(url.location): claiming task \(task) returned no epoch") }
            owner = (task, epoch)
            return epoch
        } catch {
            try? conn.execute("ROLLBACK")
            throw error
        }
    }

    func hold(task: String, epoch: Int64) {
        owner = (task, epoch)
    }

    func claimChunk(_ fence: ChunkFence) throws {
        try conn.execute("START TRANSACTION")
        do {
            try checkClaim(lock: "LOCK IN SHARE MODE")
            try conn.execute("""
                INSERT INTO \(MySQLConnection.quote(status)) (task_name, source_position, applied_at, epoch) VALUES (\(MySQLConnection.literal(fence.key)), '', UTC_TIMESTAMP(6), \(fence.epoch))
                ON DUPLICATE KEY UPDATE epoch = GREATEST(epoch, VALUES(epoch))
                """)
            let text = try conn.query("SELECT epoch FROM \(MySQLConnection.quote(status)) WHERE task_name = \(MySQLConnection.literal(fence.key))").first?[0] ?? nil
            try conn.execute("COMMIT")
            guard text.flatMap({ Int64($0) }) == fence.epoch else { throw FerryError.fenced(task: fence.key, epoch: fence.epoch) }
        } catch {
            try? conn.execute("ROLLBACK")
            throw error
        }
    }

    func hold(chunk: ChunkFence?) {
        self.chunk = chunk
    }

    func verifyClaim() throws {
        try checkClaim(lock: "")
    }

    /// Refuses unless the task's row still holds this run's epoch; `lock` (FOR UPDATE, or LOCK IN SHARE
    /// MODE beside a load's transactions), inside a transaction, makes it a locking read, which orders the
    /// check against a later claim.
    private func checkClaim(lock: String) throws {
        guard let owner else { return }
        for (row, epoch) in ChunkFence.claims(task: owner.task, epoch: owner.epoch, chunk: chunk) {
            let current = try conn.query("SELECT epoch FROM \(MySQLConnection.quote(status)) WHERE task_name = \(MySQLConnection.literal(row)) "
                + lock).first?[0] ?? nil
            guard current.flatMap({ Int64($0) }) == epoch else { throw FerryError.fenced(task: row, epoch: epoch) }
        }
    }

    func forget(task: String) throws {
        for table in [status, progress] {
            try conn.execute("DELETE FROM \(MySQLConnection.quote(table)) WHERE task_name = \(MySQLConnection.literal(task))")
        }
        let prefix = ChunkFence.prefix(task: task)
        try conn.execute("DELETE FROM \(MySQLConnection.quote(status)) WHERE LEFT(task_name, \(prefix.count)) = \(MySQLConnection.literal(prefix))")
    }

    /// MySQL 8 has no `ADD COLUMN IF NOT EXISTS`, so the catalog is asked first.
    func alter(_ plan: TablePlan, _ change: SchemaChange) throws {
        let table = MySQLConnection.quote(plan.target)
        func exists(_ column: String) throws -> Bool {
            try !conn.query("SELECT 1 FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = \(MySQLConnection.literal(plan.target.schema)) "
                + "AND TABLE_NAME = \(MySQLConnection.literal(plan.target.name)) AND COLUMN_NAME = \(MySQLConnection.literal(column))").isEmpty
        }
        switch change.kind {
        case let .addColumn(column):
            guard try !exists(column.name) else { return }
            let definition = try MySQLTarget(url: url).columnDefinition(ColumnPlan(source: column, targetName: column.name), plan: plan, mariaDB: conn.isMariaDB)
            try conn.execute("ALTER TABLE \(table) ADD COLUMN \(definition)")
        case let .dropColumn(name):
            guard let target = plan.targetName(ofSource: name), try exists(target) else { return }
            try conn.execute("ALTER TABLE \(table) DROP COLUMN \(MySQLConnection.quote(target))")
        case .unsupported:
            return
        }
        // MySQL commits before a DDL: a source transaction applied in parts has committed the parts before
        // it (without a position, so a restart applies it all again), and the rest goes on in a new one.
        if transactionOpen {
            try conn.execute("START TRANSACTION")
            try checkClaim(lock: "FOR UPDATE")
        }
    }

    func apply(_ batch: ChangeBatch, task: String?) throws {
        guard let position = batch.position else { return }
        var statements: [[UInt8]] = []
        for (plan, changes) in batch.tables {
            let table = MySQLConnection.quote(plan.target)
            let key = plan.targetPrimaryKey.map(MySQLConnection.quote)
            let keyTypes = plan.source.primaryKey.compactMap { name in plan.columns.first { $0.source.name == name }?.source.type }
            if changes.truncateFirst { statements.append(Array("DELETE FROM \(table)".utf8)) }
            for slice in ApplyStatements.deleteSlices(changes.deletes) {
                var sql = Array("DELETE FROM \(table) WHERE (\(key.joined(separator: ", "))) IN (".utf8)
                for (n, values) in slice.enumerated() {
                    sql.append(contentsOf: (n > 0 ? ", (" : "(").utf8)
                    for (i, (value, type)) in zip(values, keyTypes).enumerated() {
                        if i > 0 { sql.append(contentsOf: ", ".utf8) }
                        try MySQLLiteral.append(value, as: type, column: "\(plan.target)", to: &sql)
                    }
                    sql.append(UInt8(ascii: ")"))
                }
                sql.append(UInt8(ascii: ")"))
                statements.append(sql)
            }
            for (columns, rows) in ApplyStatements.upsertGroups(changes.upserts) {
                let names = columns.map { MySQLConnection.quote(plan.columns[$0].targetName) }
                var sql = Array("INSERT INTO \(table) (\(names.joined(separator: ", "))) VALUES ".utf8)
                for (n, row) in rows.enumerated() {
                    sql.append(contentsOf: (n > 0 ? ", (" : "(").utf8)
                    for (i, (column, value)) in zip(columns, row).enumerated() {
                        if i > 0 { sql.append(contentsOf: ", ".utf8) }
                        try MySQLLiteral.append(value, as: plan.columns[column].source.type, column: "\(plan.target).\(plan.columns[column].targetName)", to: &sql)
                    }
                    sql.append(UInt8(ascii: ")"))
                }
                let updates = names.map { "\($0) = VALUES(\($0))" }
                sql.append(contentsOf: " ON DUPLICATE KEY UPDATE \(updates.joined(separator: ", "))".utf8)
                statements.append(sql)
            }
        }
        if let task, !batch.endsInsideTransaction {
            let commitTime = batch.commitTime.map { "FROM_UNIXTIME(\(String(format: "%.6f", $0.timeIntervalSince1970)))" } ?? "NULL"
            statements.append(Array("""
                INSERT INTO \(MySQLConnection.quote(status)) (task_name, source_position, source_commit_time, applied_at)
                VALUES (\(MySQLConnection.literal(task)), \(MySQLConnection.literal(position)), \(commitTime), UTC_TIMESTAMP(6))
                ON DUPLICATE KEY UPDATE source_position = VALUES(source_position), source_commit_time = VALUES(source_commit_time), applied_at = VALUES(applied_at)
                """.utf8))
        }
        let step = BatchTransaction(batch, open: transactionOpen, savepoints: undoesRefusedBatchesAlone)
        do {
            if step.begins {
                try conn.execute("START TRANSACTION")
                try checkClaim(lock: "FOR UPDATE")
            }
            if step.guarded { try conn.execute("SAVEPOINT \(BatchTransaction.savepoint)") }
            for statement in statements { _ = try conn.execute(bytes: statement) }
            if step.guarded { try conn.execute("RELEASE SAVEPOINT \(BatchTransaction.savepoint)") }
            if step.commits { try conn.execute("COMMIT") }
            transactionOpen = !step.commits
        } catch {
            let restored = step.mayUndoAlone(error)
                && (try? conn.execute("ROLLBACK TO SAVEPOINT \(BatchTransaction.savepoint)")) != nil
            if !restored { try? conn.execute("ROLLBACK") }
            let outcome = step.outcome(of: error, restored: restored)
            transactionOpen = outcome.open
            throw outcome.error
        }
    }

    func rollback() {
        guard transactionOpen else { return }
        try? conn.execute("ROLLBACK")
        transactionOpen = false
    }

    func loadProgress(task: String) throws -> [LoadProgressRow] {
        try conn.query("SELECT table_name, chunk_index, detail FROM \(MySQLConnection.quote(progress)) WHERE task_name = \(MySQLConnection.literal(task))")
            .compactMap { row in Int(row[1] ?? "").map { LoadProgressRow(table: row[0] ?? "", chunk: $0, detail: row[2] ?? "") } }
    }

    func saveLoadProgress(_ rows: [LoadProgressRow], task: String, replacing: LoadProgressRow.Scope) throws {
        let table = MySQLConnection.quote(progress), name = MySQLConnection.literal(task)
        var statements: [String] = []
        switch replacing {
        case .none: break
        case let .table(key): statements.append("DELETE FROM \(table) WHERE task_name = \(name) AND table_name = \(MySQLConnection.literal(key))")
        case .task: statements.append("DELETE FROM \(table) WHERE task_name = \(name)")
        }
        for row in rows {
            statements.append("INSERT INTO \(table) VALUES (\(name), \(MySQLConnection.literal(row.table)), \(row.chunk), \(MySQLConnection.literal(row.detail))) "
                + "ON DUPLICATE KEY UPDATE detail = VALUES(detail)")
        }
        try commit(statements.map { Array($0.utf8) }, lock: "LOCK IN SHARE MODE")
    }

    func deleteSegment(_ index: Int, of segments: RangeSegments, from plan: TablePlan) throws {
        let predicate = try segments.targetPredicate(index, in: plan, quote: MySQLConnection.quote, literal: MySQLConnection.literal)
        try commit([Array("DELETE FROM \(MySQLConnection.quote(plan.target)) WHERE \(predicate)".utf8)], lock: "LOCK IN SHARE MODE")
    }

    /// Runs `statements` in one transaction that first checks the claim under `lock`.
    private func commit(_ statements: [[UInt8]], lock: String) throws {
        try conn.execute("START TRANSACTION")
        do {
            try checkClaim(lock: lock)
            for statement in statements { _ = try conn.execute(bytes: statement) }
            try conn.execute("COMMIT")
        } catch {
            try? conn.execute("ROLLBACK")
            throw error
        }
    }

    func close() {}
}
