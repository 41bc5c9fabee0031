import FerryCore
import Foundation

extension FullLoadRunner {
    /// Whether a chunk that failed with `error` is loaded again leaving out the rows the target refuses:
    /// under DataErrorPolicy LOG_ERROR or IGNORE_RECORD, for a data error, in a table with a key to upsert by.
    func skipsRefusedRows(after error: Error, _ plan: TablePlan) -> Bool {
        options.dataErrors.action == .skipRow && (error as? FerryError)?.kind == .dataError
            && !plan.keyNames.isEmpty && !plan.primaryKeyAfterLoad
    }

    /// Loads a chunk again after the target refused one of its rows. The rows go through the change
    /// applier as upserts, so rows the failed attempt already wrote are simply written again; a group the
    /// target refuses is halved until the refused rows stand alone, and those are left out, counted in
    /// `skippedRows` and (LOG_ERROR) recorded in `awsdms_apply_exceptions`; the rows written are counted in
    /// `written`. Returns the transformer used, for its counts of LOB values cut.
    func copySkippingRefusedRows(_ job: Job, chunk: ReadChunk, session: any SnapshotSession, counting written: ChunkRowCount) async throws -> RowTransformer? {
        let id = job.plan.source.id
        logger.warning("\(id): the target refused a row; loading chunk \(chunk.index + 1)/\(chunk.count) again without the refused rows (DataErrorPolicy)",
                       metadata: ["table": "\(id)"])
        let transformer = try Self.transformer(for: job.plan)
        let pipe = BatchPipe(capacity: options.pipeCapacity)
        let (status, options, target, plan, fence) = (self.status, self.options, self.target, job.plan, job.fence)
        try await Self.pump(chunk, of: plan, encoding: .values, from: session, through: pipe) {
            try Self.writeSkippingRefusedRows(plan, transformer: transformer, from: pipe, to: target, options: options, fence: fence, status: status,
                                              written: written)
        }
        return transformer
    }

    private static func writeSkippingRefusedRows(_ plan: TablePlan, transformer: RowTransformer?, from pipe: BatchPipe,
                                                 to target: any TargetConnector, options: FullLoadOptions, fence: LoadFence?,
                                                 status: FullLoadStatus, written: ChunkRowCount) throws {
        let id = plan.source.id
        let applier = try target.openApplier(controlSchema: options.controlSchema)
        defer { applier.close() }
        if let fence {
            applier.hold(task: fence.task, epoch: fence.epoch)
            applier.hold(chunk: fence.chunk)
        }
        let names = plan.columns.map(\.source.name)
        let transformers = transformer.map { [id: $0] } ?? [:]
        let loadTime = Date()
        var skipped = SkippedRows(policy: options.dataErrors, table: id)
        func record() throws {
            try ApplyExceptionsTable.append(skipped.takeRecords(), task: options.taskName, controlSchema: options.controlSchema, target: target)
        }
        while let batch = try pipe.receive() {
            guard case let .rows(rows) = batch else { continue }
            try RefusalIsolation.apply(rows[...], { group in
                var changes = ChangeBatch(plans: [id: plan], transformers: transformers)
                try changes.add(ChangeTransaction(position: "", commitTime: loadTime, changes: group.map {
                    RowChange(table: id, kind: .insert, columns: names, values: $0.map { Optional($0) })
                }))
                try applier.apply(changes, task: nil)
                written.add(group.count)
                status.update(id) { $0.rowsLoaded += Int64(group.count) }
            }, refused: { row, error in
                try skipped.skip(ApplyExceptionsTable.describe(row.map { Optional($0) }, columns: names), error)
                status.update(id) { $0.skippedRows += 1 }
            })
            if skipped.records.count >= 1000 { try record() }
        }
        try record()
    }
}

/// Rows a chunk's writer reported, so that a chunk loaded again can take them back from the table's count.
final class ChunkRowCount: @unchecked Sendable {
    private let lock = NSLock()
    private var rows: Int64 = 0

    func add(_ count: Int) { lock.withLock { rows += Int64(count) } }
    var value: Int64 { lock.withLock { rows } }
}
