import FerryCore
import Foundation
import GRDB

/// Applies change batches to a SQLite file: one transaction per batch holding the deletes, upserts
/// (`INSERT … ON CONFLICT DO UPDATE`) and the task's row in `ferry_apply_status`.
final class SQLiteApplier: ChangeApplier, @unchecked Sendable {
    /// The connection, let go by ``idle()`` outside a transaction and opened again by the next call.
    private var connection: DatabaseQueue?
    private let url: ConnectionURL
    private let target: SQLiteTarget
    /// The claim every transaction checks first (``claim(task:)``).
    private var owner: (task: String, epoch: Int64)?
    /// The chunk claim every transaction checks too (``hold(chunk:)``).
    private var chunk: ChunkFence?
    /// True while batches that end inside a source transaction hold the target transaction open.
    private var transactionOpen = false
    var undoesRefusedBatchesAlone = false

    init(target: SQLiteTarget) throws {
        self.target = target
        url = target.url
        let queue = try target.open(keepingTransactionsOpen: true)
        connection = queue
        try SQLiteErrors.wrap(url) {
            try queue.write { db in
                try db.execute(sql: """
                    CREATE TABLE IF NOT EXISTS \(ApplyStatements.statusTable) (task_name TEXT PRIMARY KEY,
                      source_position TEXT NOT NULL, source_commit_time DATETIME, applied_at DATETIME NOT NULL)
                    """)
                try db.execute(sql: """
                    CREATE TABLE IF NOT EXISTS \(ControlTableNames.loadProgress) (task_name TEXT, table_name TEXT, chunk_index INTEGER,
                      detail TEXT NOT NULL, PRIMARY KEY (task_name, table_name, chunk_index))
                    """)
                // A table made before epochs were kept gets the column.
                if try !Row.fetchAll(db, sql: "PRAGMA table_info(\(ApplyStatements.statusTable))").contains(where: { $0["name"] == "epoch" }) {
                    try db.execute(sql: "ALTER TABLE \(ApplyStatements.statusTable) ADD COLUMN epoch INTEGER NOT NULL DEFAULT 0")
                }
            }
        }
    }

    func appliedPosition(task: String) throws -> String? {
        try SQLiteErrors.wrap(url) {
            try queue().read { db in
                try String.fetchOne(db, sql: "SELECT source_position FROM \(ApplyStatements.statusTable) WHERE task_name = ? AND source_position <> ''",
                                    arguments: [task])
            }
        }
    }

    /// The file's write lock orders the claim against an earlier run's transaction.
    func claim(task: String) throws -> Int64 {
        let epoch = try SQLiteErrors.wrap(url) {
            try queue().write { db in
                try db.execute(sql: """
                    INSERT INTO \(ApplyStatements.statusTable) (task_name, source_position, applied_at, epoch) VALUES (?, '', datetime('now'), 1)
                    ON CONFLICT (task_name) DO UPDATE SET epoch = epoch + 1
                    """, arguments: [task])
                return try Int64.fetchOne(db, sql: "SELECT epoch FROM \(ApplyStatements.statusTable) WHERE task_name = ?", arguments: [task]) ?? 0
            }
        }
        owner = (task, epoch)
        return epoch
    }

    func hold(task: String, epoch: Int64) {
        owner = (task, epoch)
    }

    func claimChunk(_ fence: ChunkFence) throws {
        try SQLiteErrors.wrap(url) {
            try queue().write { db in
                try checkClaim(db)
                try db.execute(sql: """
                    INSERT INTO \(ApplyStatements.statusTable) (task_name, source_position, applied_at, epoch) VALUES (?, '', datetime('now'), ?)
                    ON CONFLICT (task_name) DO UPDATE SET epoch = max(epoch, excluded.epoch)
                    """, arguments: [fence.key, fence.epoch])
                if try Int64.fetchOne(db, sql: "SELECT epoch FROM \(ApplyStatements.statusTable) WHERE task_name = ?", arguments: [fence.key]) != fence.epoch {
                    throw FerryError.fenced(task: fence.key, epoch: fence.epoch)
                }
            }
        }
    }

    func hold(chunk: ChunkFence?) {
        self.chunk = chunk
    }

    func verifyClaim() throws {
        try SQLiteErrors.wrap(url) { try queue().read { db in try checkClaim(db) } }
    }

    /// Refuses unless the task's row still holds this run's epoch (inside a write, the file's lock orders it against a claim).
    private func checkClaim(_ db: Database) throws {
        guard let owner else { return }
        for (row, epoch) in ChunkFence.claims(task: owner.task, epoch: owner.epoch, chunk: chunk)
        where try Int64.fetchOne(db, sql: "SELECT epoch FROM \(ApplyStatements.statusTable) WHERE task_name = ?", arguments: [row]) != epoch {
            throw FerryError.fenced(task: row, epoch: epoch)
        }
    }

    func forget(task: String) throws {
        try SQLiteErrors.wrap(url) {
            try queue().write { db in
                let prefix = ChunkFence.prefix(task: task)
                try db.execute(sql: "DELETE FROM \(ApplyStatements.statusTable) WHERE substr(task_name, 1, ?) = ?", arguments: [prefix.count, prefix])
                for table in [ApplyStatements.statusTable, ControlTableNames.loadProgress] {
                    try db.execute(sql: "DELETE FROM \(table) WHERE task_name = ?", arguments: [task])
                }
            }
        }
    }

    func alter(_ plan: TablePlan, _ change: SchemaChange) throws {
        let table = SQLiteNames.quote(plan.target.name)
        try SQLiteErrors.wrap(url) {
            try queue().write { db in
                let existing = Set(try Row.fetchAll(db, sql: "PRAGMA table_info(\(table))").map { $0["name"] as String })
                switch change.kind {
                case let .addColumn(column):
                    guard !existing.contains(column.name) else { return }
                    try db.execute(sql: "ALTER TABLE \(table) ADD COLUMN " + target.columnDefinition(ColumnPlan(source: column, targetName: column.name), plan: plan))
                case let .dropColumn(name):
                    guard let name = plan.targetName(ofSource: name), existing.contains(name) else { return }
                    try db.execute(sql: "ALTER TABLE \(table) DROP COLUMN \(SQLiteNames.quote(name))")
                case .unsupported:
                    break
                }
            }
        }
    }

    func apply(_ batch: ChangeBatch, task: String?) throws {
        guard let position = batch.position else { return }
        let step = BatchTransaction(batch, open: transactionOpen, savepoints: undoesRefusedBatchesAlone)
        do {
            try SQLiteErrors.wrap(url) {
                try queue().writeWithoutTransaction { db in
                    if step.begins {
                        try db.execute(sql: "BEGIN IMMEDIATE")
                        transactionOpen = true
                        try checkClaim(db)
                    }
                    if step.guarded { try db.execute(sql: "SAVEPOINT \(BatchTransaction.savepoint)") }
                    try SQLiteWriteFence.bypassing(db) { try write(batch, db) }
                    if step.guarded { try db.execute(sql: "RELEASE SAVEPOINT \(BatchTransaction.savepoint)") }
                    guard step.commits else { return }
                    if let task {
                        try db.execute(sql: """
                            INSERT INTO \(ApplyStatements.statusTable) (task_name, source_position, source_commit_time, applied_at) VALUES (?, ?, ?, datetime('now'))
                            ON CONFLICT (task_name) DO UPDATE SET source_position = excluded.source_position,
                              source_commit_time = excluded.source_commit_time, applied_at = excluded.applied_at
                            """, arguments: [task, position, batch.commitTime.map { ISO8601DateFormatter().string(from: $0) }])
                    }
                    try db.execute(sql: "COMMIT")
                    transactionOpen = false
                }
            }
        } catch {
            let restored = step.mayUndoAlone(error)
                && (try? queue().writeWithoutTransaction { db in try db.execute(sql: "ROLLBACK TO SAVEPOINT \(BatchTransaction.savepoint)") }) != nil
            if !restored { rollback() }
            let outcome = step.outcome(of: error, restored: restored)
            transactionOpen = outcome.open
            throw outcome.error
        }
    }

    /// The batch's deletes and upserts, table by table.
    private func write(_ batch: ChangeBatch, _ db: Database) throws {
        for (plan, changes) in batch.tables {
            let table = SQLiteNames.quote(plan.target.name)
            let key = plan.targetPrimaryKey.map(SQLiteNames.quote)
            if changes.truncateFirst { try db.execute(sql: "DELETE FROM \(table)") }
            if !changes.deletes.isEmpty {
                let delete = try db.cachedStatement(sql: "DELETE FROM \(table) WHERE " + key.map { "\($0) = ?" }.joined(separator: " AND "))
                for values in changes.deletes { try SQLiteValues.run(delete.sqliteStatement, binding: values, in: db) }
            }
            // One statement for the rows that set the same columns, prepared once.
            for (columns, rows) in ApplyStatements.upsertGroups(changes.upserts, rowsPerStatement: max(1, changes.upserts.count)) {
                let names = columns.map { SQLiteNames.quote(plan.columns[$0].targetName) }
                let updates = names.filter { !key.contains($0) }.map { "\($0) = excluded.\($0)" }
                let upsert = try db.cachedStatement(sql: "INSERT INTO \(table) (\(names.joined(separator: ", "))) VALUES (\(names.map { _ in "?" }.joined(separator: ", "))) "
                    + "ON CONFLICT (\(key.joined(separator: ", "))) " + (updates.isEmpty ? "DO NOTHING" : "DO UPDATE SET \(updates.joined(separator: ", "))"))
                for row in rows { try SQLiteValues.run(upsert.sqliteStatement, binding: row, in: db) }
            }
        }
    }

    func rollback() {
        guard transactionOpen else { return }
        _ = try? queue().writeWithoutTransaction { db in try db.execute(sql: "ROLLBACK") }
        transactionOpen = false
    }

    func loadProgress(task: String) throws -> [LoadProgressRow] {
        try SQLiteErrors.wrap(url) {
            try queue().read { db in
                try Row.fetchAll(db, sql: "SELECT table_name, chunk_index, detail FROM \(ControlTableNames.loadProgress) WHERE task_name = ?", arguments: [task])
                    .map { LoadProgressRow(table: $0[0], chunk: $0[1], detail: $0[2]) }
            }
        }
    }

    func saveLoadProgress(_ rows: [LoadProgressRow], task: String, replacing: LoadProgressRow.Scope) throws {
        let table = ControlTableNames.loadProgress
        try SQLiteErrors.wrap(url) {
            try queue().write { db in
                try checkClaim(db)
                switch replacing {
                case .none: break
                case let .table(key): try db.execute(sql: "DELETE FROM \(table) WHERE task_name = ? AND table_name = ?", arguments: [task, key])
                case .task: try db.execute(sql: "DELETE FROM \(table) WHERE task_name = ?", arguments: [task])
                }
                for row in rows {
                    try db.execute(sql: "INSERT INTO \(table) VALUES (?, ?, ?, ?) ON CONFLICT (task_name, table_name, chunk_index) DO UPDATE SET detail = excluded.detail",
                                   arguments: [task, row.table, row.chunk, row.detail])
                }
            }
        }
    }

    func deleteSegment(_ index: Int, of segments: RangeSegments, from plan: TablePlan) throws {
        let predicate = try segments.targetPredicate(index, in: plan, quote: SQLiteNames.quote, literal: SQLiteNames.literal)
        try SQLiteErrors.wrap(url) {
            try queue().write { db in try SQLiteWriteFence.bypassing(db) {
                try checkClaim(db)
                try db.execute(sql: "DELETE FROM \(SQLiteNames.quote(plan.target.name)) WHERE \(predicate)")
            } }
        }
    }

    /// Lets the connection go unless a transaction is open.
    func idle() {
        if !transactionOpen { connection = nil }
    }

    /// The connection, opened again after ``idle()``.
    private func queue() throws -> DatabaseQueue {
        if let connection { return connection }
        let queue = try target.open(keepingTransactionsOpen: true)
        connection = queue
        return queue
    }

    func close() {}
}
