/// What an applier's target transaction does around one batch, given whether earlier batches left it
/// open (``ChangeBatch/endsInsideTransaction``): begin it, guard the batch with a savepoint, commit it.
/// The rule every applier follows (``ChangeApplier/apply(_:task:)``), kept in one place. Pure.
public struct BatchTransaction: Sendable, Equatable {
    /// No transaction is open yet: this batch begins one (and checks the claim first).
    public let begins: Bool
    /// The batch runs under ``savepoint``, so that a refused batch is undone alone: the transaction
    /// holds, or will hold, other batches' changes, and the applier was asked to (``ChangeApplier/undoesRefusedBatchesAlone``).
    public let guarded: Bool
    /// The batch commits the transaction, with its position.
    public let commits: Bool

    /// The savepoint's name.
    public static let savepoint = "ferry_batch"

    public init(_ batch: ChangeBatch, open: Bool, savepoints: Bool) {
        begins = !open
        guarded = savepoints && (open || batch.endsInsideTransaction)
        commits = !batch.endsInsideTransaction
    }

    /// Whether a failure may be undone to the batch's savepoint: a refusal (`.dataError`) of a guarded batch.
    public func mayUndoAlone(_ error: Error) -> Bool {
        guarded && (error as? FerryError)?.kind == .dataError
    }

    /// After the batch failed: whether the transaction is still open, and the error to throw. The applier
    /// rolled back to the savepoint (`restored`) or, when it could not, the whole transaction. A refusal
    /// that took earlier batches' changes with it cannot be skipped row by row: it stops the run, which
    /// applies the source transaction again from its start.
    public func outcome(of error: Error, restored: Bool) -> (open: Bool, error: Error) {
        if restored { return (true, error) }
        guard !begins, let refusal = error as? FerryError, refusal.kind == .dataError else { return (false, error) }
        return (false, FerryError(.database, "the target refused part of a source transaction and rolled back the parts before it: \(refusal.message); "
            + "the next run applies the transaction again from its start"))
    }
}
