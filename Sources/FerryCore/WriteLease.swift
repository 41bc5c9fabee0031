import Foundation

/// Whether a node may still write for the tasks it holds, by its own monotonic clock: from the start of its
/// last successful lease renewal until `writesFor` seconds later, a moment chosen before the lease can have
/// run out for the other nodes (`LeasePolicy.stopApplyingAfter`). A change stream checks it before each
/// batch, so a node cut off from the catalog stops writing then, however long its runs take to end. The
/// epoch on the target remains what refuses a node that was taken over; this only ends its writes sooner.
public final class WriteLease: @unchecked Sendable {
    /// How long after a renewal began the node may write.
    public let writesFor: Double
    private let lock = NSLock()
    private var renewedAt: ContinuousClock.Instant

    public init(writesFor: Double, renewedAt: ContinuousClock.Instant = .now) {
        self.writesFor = writesFor
        self.renewedAt = renewedAt
    }

    /// Records a renewal that began at `moment`.
    public func renewed(at moment: ContinuousClock.Instant) {
        lock.withLock { renewedAt = max(renewedAt, moment) }
    }

    /// Seconds from the start of the last successful renewal to `now`.
    public func secondsSinceRenewal(at now: ContinuousClock.Instant = .now) -> Double {
        (now - lock.withLock { renewedAt }) / .seconds(1)
    }

    /// Whether the node may write at `now`.
    public func allowsWrites(at now: ContinuousClock.Instant = .now) -> Bool {
        secondsSinceRenewal(at: now) < writesFor
    }

    /// Blocks while the node may not write, until a renewal lets it again or `stop` is set; true when it may write.
    public func waitForWrites(unless stop: StopFlag) -> Bool {
        while !allowsWrites(), !stop.isSet { Thread.sleep(forTimeInterval: 0.05) }
        return !stop.isSet
    }
}
