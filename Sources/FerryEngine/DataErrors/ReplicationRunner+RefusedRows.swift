import FerryCore
import Foundation

extension ReplicationRunner {
    /// Applies a batch the target refused, row by row, under DataErrorPolicy LOG_ERROR or IGNORE_RECORD:
    /// each refused row change is left out, logged and (LOG_ERROR) recorded in `awsdms_apply_exceptions`;
    /// then the batch's position is stored, so a restart does not try the refused rows again. `skipped`
    /// holds each table's count across batches; a table reaching the escalation count stops the run.
    func applySkippingRefusedRows(_ batch: ChangeBatch, _ applier: any ChangeApplier,
                                  skipped: inout [TableID: SkippedRows]) throws {
        guard let position = batch.position else { return }
        for part in batch.splitByRow() {
            do {
                try applier.apply(part, task: nil)
            } catch let error as FerryError where error.kind == .dataError {
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
        for (source, var table) in skipped where !table.records.isEmpty {
            try ApplyExceptionsTable.append(table.takeRecords(), task: options.task, controlSchema: options.controlSchema, target: target)
            skipped[source] = table
        }
        var marker = ChangeBatch(plans: [:])
        try marker.add(ChangeTransaction(position: position, commitTime: batch.commitTime ?? Date(), changes: []))
        try applier.apply(marker, task: options.task)
    }
}
