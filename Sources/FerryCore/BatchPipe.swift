import Foundation

/// A bounded, blocking hand-over of batches from one producer thread to one consumer thread
/// (a ``Handover`` of ``RowBatch``es), which can rewrite each batch of rows as it is sent.
///
/// The producer blocks while `capacity` batches wait, so memory stays bounded whatever the
/// table size. Either side can end the hand-over with an error, which the other side sees
/// at its next call.
public final class BatchPipe: @unchecked Sendable {
    private let handover: Handover<RowBatch>
    private let transform: (@Sendable ([[Value]]) throws -> [[Value]])?

    /// `transform`, when given, rewrites each batch of decoded rows on the producer's thread as it is sent.
    public init(capacity: Int = 4, transform: (@Sendable ([[Value]]) throws -> [[Value]])? = nil) {
        handover = Handover(capacity: capacity)
        self.transform = transform
    }

    /// Hands a batch over, waiting while the pipe is full. Throws the consumer's error once it gave up.
    public func send(_ batch: RowBatch) throws {
        if let transform, case let .rows(rows) = batch {
            return try handover.send(.rows(try transform(rows)))
        }
        try handover.send(batch)
    }

    /// Ends the hand-over; `error` (if any) is thrown to the consumer after the batches already sent.
    public func finish(throwing error: Error? = nil) {
        handover.finish(throwing: error)
    }

    /// Aborts both sides at once: the producer's next `send` and the consumer's next `receive` throw.
    public func abort(_ error: Error) {
        handover.abort(error)
    }

    /// The next batch, or nil once the producer finished without error.
    public func receive() throws -> RowBatch? {
        try handover.receive()
    }
}
