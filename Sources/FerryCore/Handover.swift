import Foundation

/// A bounded, blocking hand-over of items from one producer thread to one consumer thread.
///
/// The producer blocks while `capacity` items wait, so memory stays bounded. Either side can end the
/// hand-over with an error, which the other side sees at its next call.
public final class Handover<Item>: @unchecked Sendable {
    private let condition = NSCondition()
    /// Consumed slots are emptied at once, so the hand-over never keeps an item the consumer took.
    private var queue: [Item?] = []
    private var head = 0
    private let capacity: Int
    private var finished = false
    private var failure: Error?

    public init(capacity: Int) {
        self.capacity = max(1, capacity)
    }

    /// Hands an item over, waiting while the hand-over is full. Throws the consumer's error once it gave up.
    public func send(_ item: Item) throws {
        condition.lock()
        defer { condition.unlock() }
        while queue.count - head >= capacity, failure == nil {
            condition.wait()
        }
        if let failure { throw failure }
        queue.append(item)
        condition.broadcast()
    }

    /// Ends the hand-over; `error` (if any) is thrown to the consumer after the items already sent.
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

    /// The next item, or nil once the producer finished without error.
    public func receive() throws -> Item? {
        switch try take(waitingUntil: nil) {
        case let .item(item): return item
        case .waiting, .ended: return nil
        }
    }

    /// What ``receive(before:)`` found.
    public enum Arrival {
        case item(Item)
        /// Nothing came before the deadline.
        case waiting
        /// The producer finished without error.
        case ended
    }

    /// The next item, waiting for it until `deadline`.
    public func receive(before deadline: Date) throws -> Arrival {
        try take(waitingUntil: deadline)
    }

    /// The next item, waiting until `deadline`, or for as long as it takes when there is none (Foundation
    /// on Linux traps on a wait until `Date.distantFuture`).
    private func take(waitingUntil deadline: Date?) throws -> Arrival {
        condition.lock()
        defer { condition.unlock() }
        while head == queue.count, !finished, failure == nil {
            if let deadline {
                guard condition.wait(until: deadline) else { return .waiting }
            } else {
                condition.wait()
            }
        }
        if head < queue.count, let item = queue[head] {
            queue[head] = nil
            head += 1
            if head == queue.count {
                queue.removeAll(keepingCapacity: true)
                head = 0
            } else if head >= capacity {
                queue.removeFirst(head)
                head = 0
            }
            condition.broadcast()
            return .item(item)
        }
        if let failure { throw failure }
        return .ended
    }
}
