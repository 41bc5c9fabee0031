/// How long a node's lease lasts and when it acts on it: the rules, pure, with the clock passed in.
///
/// A node renews every ``renewInterval``; the catalog extends its lease to ``leaseSeconds`` past the
/// catalog's own clock. A node that has not renewed for ``stopApplyingAfter`` (measured on its own
/// monotonic clock from the start of its last successful renewal, `WriteLease`) stops writing and gives
/// its tasks up, which is before the lease can have expired for anyone else; the epoch on the target
/// fences whatever it still sends.
public struct LeasePolicy: Sendable, Equatable {
    public var leaseSeconds: Double
    public var renewInterval: Double
    public var stopApplyingAfter: Double
    /// How long a node that gave a task up for a failover stays out of the way, so another node takes it.
    public var failoverHoldOff: Double = 30

    /// Ferry's defaults: a 10 s lease renewed every 2 s; a node gives its tasks up after 7 s without
    /// renewing, so a dead node's tasks move within about 10–12 s.
    public init(leaseSeconds: Double = 10, renewInterval: Double = 2, stopApplyingAfter: Double = 7) {
        self.leaseSeconds = leaseSeconds
        self.renewInterval = renewInterval
        self.stopApplyingAfter = stopApplyingAfter
    }

    /// How many waiting tasks a node running `mine` of `total` tasks (running and waiting) takes in one
    /// round, with `liveNodes` nodes alive: up to its even share, rounded up, so tasks spread by load and
    /// the nodes together take all of them.
    public static func claimQuota(mine: Int, total: Int, liveNodes: Int) -> Int {
        let nodes = max(liveNodes, 1)
        let share = (total + nodes - 1) / nodes
        return max(0, share - mine)
    }
}
