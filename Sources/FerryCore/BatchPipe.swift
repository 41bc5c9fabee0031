import Foundation

/// A bounded, blocking hand-over of batches from one producer thread to one consumer thread.
///
/// The producer blocks while `capacity` batches wait, so memory stays bounded whatever the
/// table size. Either side can end the hand-over with an error, which the other side sees
/// at its next call.
public final class BatchPipe: @unchecked Sendable {
    private let condition = NSCondition()
    private var queue: [RowBatch] = []
    private var head = 0
    private let capacity: Int
    private var finished = false
    private var failure: Error?
    private let transform: (@Sendable ([[Value]]) throws -> [[Value]])?

    /// `transform`, when given, rewrites each batch of decoded rows on the producer's thread as it is sent.
    public init(capacity: Int = 4, transform: (@Sendable ([[Value]]) throws -> [[Value]])? = nil) {
        self.capacity = max(1, capacity)
        self.transform = transform
    }

    /// Hands a batch over, waiting while the pipe is full. Throws the consumer's error once it gave up.
    public func send(_ batch: RowBatch) throws {
        var batch = batch
        if let transform, case let .rows(rows) = batch {
            batch = .rows(try transform(rows))
        }
        condition.lock()
        defer { condition.unlock() }
        while queue.count - head >= capacity, failure == nil {
            condition.wait()
        }
        if let failure { throw failure }
        queue.append(batch)
        condition.broadcast()
    }

    /// Ends the hand-over; `error` (if any) is thrown to the consumer after the batches already sent.
    public func finish(throwing error: Error? = nil) {
        condition.lock()
        defer { condition.unlock() }
        if let error, failure == nil { failure = error }
        finished = true
        condition.broadcast()
    }

    /// Aborts both sides at once: the producer's next `send` and the consumer's next `receive` throw.
    public func abort(_ error: Error) {
        condition.lock()
        defer { condition.unlock() }
        if failure == nil { failure = error }
        queue.removeAll()
        head = 0
        finished = true
        condition.broadcast()
    }

    /// The next batch, or nil once the producer finished without error.
    public func receive() throws -> RowBatch? {
        condition.lock()
        defer { condition.unlock() }
        while head == queue.count, !finished, failure == nil {
            condition.wait()
        }
        if head < queue.count {
            let batch = queue[head]
            // Drop the consumed slot's reference at once: memory is bounded by `capacity` batches.
            queue[head] = .rows([])
            head += 1
            if head == queue.count {
                queue.removeAll(keepingCapacity: true)
                head = 0
            } else if head >= capacity {
                queue.removeFirst(head)
                head = 0
            }
            condition.broadcast()
            return batch
        }
        if let failure { throw failure }
        return nil
    }
}
