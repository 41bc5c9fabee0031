import FerryCore
import Foundation

extension ReplicationRunner {
    /// Applies a batch the target refused, in halves narrowed down to the refused row changes, under
    /// DataErrorPolicy LOG_ERROR or IGNORE_RECORD: each refused row change is left out, logged and
    /// (LOG_ERROR) recorded in `awsdms_apply_exceptions`; then the batch's position is stored, so a restart
    /// does not try the refused rows again. `skipped` holds each table's count across batches; a table
    /// reaching the escalation count stops the run. `inside` a source transaction applied in parts, the
    /// rows go into its open target transaction and commit with it; their records wait in `skipped` until
    /// then (``recordSkipped(_:)``).
    func applySkippingRefusedRows(_ batch: ChangeBatch, _ applier: any ChangeApplier, inside: Bool,
                                  skipped: inout [TableID: SkippedRows]) throws {
        guard let position = batch.position else { return }
        try applyNarrowing(batch, applier, inside: inside, skipped: &skipped)
        // A SQLite target's file is locked by the open transaction: records are written once it commits.
        if !inside { try recordSkipped(&skipped) }
        var marker = ChangeBatch(plans: [:])
        try marker.add(ChangeTransaction(position: position, commitTime: batch.commitTime ?? Date(), changes: [], continues: batch.endsInsideTransaction))
        try applier.apply(marker, task: options.task)
    }

    /// Applies `refused`'s halves; a half the target refuses is cut again, down to single row changes,
    /// which are left out.
    private func applyNarrowing(_ refused: ChangeBatch, _ applier: any ChangeApplier, inside: Bool,
                                skipped: inout [TableID: SkippedRows]) throws {
        for part in refused.halves(continuing: inside) {
            do {
                try applier.apply(part, task: nil)
            } catch let error as FerryError where error.kind == .dataError {
                guard part.rowChangeCount == 1 else {
                    try applyNarrowing(part, applier, inside: inside, skipped: &skipped)
                    continue
                }
                guard let (plan, changes) = part.tables.first else { throw error }
                let source = plan.source.id
                let row = changes.upserts.first.map { ApplyExceptionsTable.describe($0, columns: plan.columns.map(\.targetName)) }
                    ?? "DELETE " + ApplyExceptionsTable.describe(changes.deletes.first?.map { Optional($0) } ?? [], columns: plan.targetPrimaryKey)
                logger.warning("\(source): the target refused a change, left out (DataErrorPolicy): \(row): \(error.message)",
                               metadata: ["table": "\(source)"])
                var table = skipped[source] ?? SkippedRows(policy: load.dataErrors, table: source)
                do {
                    try table.skip(row, error)
                } catch let escalation as DataErrorEscalation {
                    throw escalation.error
                }
                skipped[source] = table
            }
        }
    }

    /// Writes the refused rows' records that wait in `skipped` to `awsdms_apply_exceptions`.
    func recordSkipped(_ skipped: inout [TableID: SkippedRows]) throws {
        for (source, var table) in skipped where !table.records.isEmpty {
            try ApplyExceptionsTable.append(table.takeRecords(), task: options.task, controlSchema: options.controlSchema, target: target)
            skipped[source] = table
        }
    }
}
