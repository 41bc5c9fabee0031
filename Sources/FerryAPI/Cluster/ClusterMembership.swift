import FerryCatalog
import FerryCluster
import FerryCore
import Foundation

/// This server's part in the cluster: it renews its lease, does what other nodes asked of the tasks it
/// runs, takes waiting tasks up to its share, gives its tasks up when it cannot renew, and hands them
/// over when it shuts down (docs/cluster.md). With the embedded catalog the same rounds run with one
/// node.
extension DMSService {
    var registry: ClusterRegistry { node.registry }

    /// Where a task runs when another node runs it: `node b (http://10.0.0.12:9600)`; nil when it runs here or nowhere.
    func otherNodeRunning(_ arn: String) -> String? {
        guard let owner = try? registry.owner(of: arn), owner != node.id else { return nil }
        let address = (try? registry.nodes().first { $0.nodeID == owner }?.address) ?? nil
        return "node \(owner)" + (address.map { $0.isEmpty ? "" : " (\($0))" } ?? "")
    }

    /// Joins the cluster after a start: claims this node's name held before (it died) go back to
    /// waiting; with the embedded catalog, every other node in it is gone with its process.
    func join() throws {
        try registry.leave(node: node.id)
        if catalog.store.dialect == .sqlite { try registry.forgetOtherNodes(than: node.id) }
        let began = ContinuousClock.now
        try registry.renew(node: node.id, address: node.address)
        node.lease.renewed(at: began)
    }

    /// The rounds, every ``LeasePolicy/renewInterval``, until the task is cancelled. A node that has not
    /// renewed wakes at the moment it must stop applying (``LeasePolicy/stopApplyingAfter``) rather than at
    /// its next round, which could be up to a renewal interval later: its runs then have the rest of the
    /// lease to end.
    public func runCluster() async {
        while !Task.isCancelled {
            let untilStop = node.lease.writesFor - node.lease.secondsSinceRenewal()
            let wait = untilStop > 0 ? min(registry.policy.renewInterval, untilStop) : registry.policy.renewInterval
            try? await Task.sleep(for: .seconds(wait))
            if Task.isCancelled { break }
            await clusterRound()
        }
    }

    /// One round. A node that was paused or cut off past ``LeasePolicy/stopApplyingAfter`` gives its
    /// tasks up before anything else (its change streams stopped writing at that moment already), and a
    /// task whose claim another node took is given up too: the target's epoch would refuse its writes
    /// anyway, this stops it reading.
    func clusterRound() async {
        let began = ContinuousClock.now
        let helping = await chunkHelpers.count
        if !node.lease.allowsWrites(at: began), await supervisor.activeCount > 0 || helping > 0 {
            let silent = Int(node.lease.secondsSinceRenewal(at: began))
            logger.error("node \(node.id) has not renewed its lease for \(silent) s; it gives up its tasks, which other nodes resume")
            await supervisor.relinquishAll()
            await chunkHelpers.cancelAll()
        }
        do {
            try registry.renew(node: node.id, address: node.address)
            node.lease.renewed(at: began)
        } catch {
            logger.warning("node \(node.id) cannot renew its lease in the catalog (\(catalog.store.location)): \(error)")
            return
        }
        do {
            for claim in await supervisor.heldClaims where try !registry.holds(task: claim.taskArn, node: node.id, epoch: claim.epoch) {
                logger.warning("task \(claim.taskArn) was taken over by another node; node \(node.id) stops its run")
                await supervisor.relinquish(claim.taskArn)
            }
            // Claims this node holds without running them: it gave them up while it could not renew (the
            // catalog was away, and no node could take them meanwhile). Read before the runs, so a task
            // that starts in between is not among them.
            let claimed = try registry.claims(of: node.id)
            let running = Set(await supervisor.heldClaims.map(\.taskArn))
            for claim in claimed where !running.contains(claim.taskArn) {
                try registry.release(task: claim.taskArn, node: node.id, epoch: claim.epoch)
            }
            for request in try registry.takeRequests(node: node.id) { await perform(request) }
            let load = try registry.load(node: node.id)
            let quota = LeasePolicy.claimQuota(mine: load.mine, total: load.total, liveNodes: load.liveNodes)
            for claim in try registry.claimWaiting(node: node.id, limit: quota) { await adopt(claim) }
            try await helpWithChunks()
        } catch {
            logger.warning("node \(node.id): cluster round failed: \(error)")
        }
    }

    /// Resumes a task this node just claimed, as `resume-processing` does, with an event saying where it came from.
    func adopt(_ claim: TaskClaim) async {
        let arn = claim.taskArn
        guard !(await supervisor.isActive(arn)) else { return }
        do {
            guard let task = try catalog.get(.task, arn: arn, as: ReplicationTask.self) else {
                try registry.finish(task: arn, node: node.id, epoch: claim.epoch)
                return
            }
            switch task.Status ?? "" {
            case "stopping":
                try await supervisor.recordInterruption(task, .stopped)
                try registry.finish(task: arn, node: node.id, epoch: claim.epoch)
            case "starting", "running":
                do {
                    let run = try taskRun(task, startType: claim.startType ?? "resume-processing")
                    // A task StartReplicationTask left for this node starts as asked; any other resumes.
                    if claim.startType == nil {
                        try await supervisor.recordInterruption(task, claim.previousNode.map { .moved(from: $0) } ?? .resuming)
                    }
                    try await supervisor.start(run, claim: claim)
                } catch {
                    try await supervisor.recordInterruption(task, .failed("\(error)"))
                    try registry.finish(task: arn, node: node.id, epoch: claim.epoch)
                }
            default:
                // Not meant to run (it stopped while it waited to move).
                try registry.finish(task: arn, node: node.id, epoch: claim.epoch)
            }
        } catch {
            logger.error("node \(node.id) could not resume task \(arn): \(error)")
        }
    }

    /// Does what another node was asked of a task this node runs.
    func perform(_ request: TaskRequest) async {
        do {
            switch request.kind {
            case .stop:
                try await supervisor.stop(request.taskArn)
            case .reload, .revalidate:
                let tables = try JSONDecoder().decode([TableID].self, from: Data(request.body.utf8))
                try await supervisor.reload(request.taskArn, tables: tables, validateOnly: request.kind == .revalidate)
            case .move:
                try await handOver(request.taskArn, avoiding: Double(request.body) ?? 0)
            }
        } catch {
            logger.warning("node \(node.id) could not \(request.kind.rawValue) task \(request.taskArn): \(error)")
        }
    }

    /// Whether a task about to start is better left to another node: this node already runs its even
    /// share of the cluster's tasks, counting the new one. A node that takes it starts it as asked.
    func leavesToAnotherNode() throws -> Bool {
        let load = try registry.load(node: node.id)
        return LeasePolicy.claimQuota(mine: load.mine, total: load.total + 1, liveNodes: load.liveNodes) == 0
    }

    /// Gives one task this node runs back to waiting; with `avoiding` seconds, this node leaves it to another.
    func handOver(_ arn: String, avoiding seconds: Double) async throws {
        guard let claim = await supervisor.heldClaims.first(where: { $0.taskArn == arn }) else { return }
        await supervisor.relinquish(arn)
        try registry.release(task: arn, node: node.id, epoch: claim.epoch, avoiding: seconds)
    }

    /// Hands this node's tasks over before it exits: it stops taking tasks, gives up the ones it runs
    /// (their status stays as it is) and leaves, so the other nodes take them at their next round, and a
    /// single server resumes them when it starts again.
    public func shutdown() async {
        try? registry.setDraining(node: node.id)
        let handed = await supervisor.activeTasks
        await chunkHelpers.cancelAll()
        await supervisor.relinquishAll()
        for arn in handed {
            guard let task = try? catalog.get(.task, arn: arn, as: ReplicationTask.self), let name = task.ReplicationTaskIdentifier else { continue }
            supervisor.events.record(name, "Node \(node.id) is shutting down: it hands the task over, and the next node to take it resumes it.",
                                     ["state change"])
        }
        do { try registry.leave(node: node.id) } catch {
            logger.error("node \(node.id) could not leave the cluster (\(error)); its tasks move once its lease runs out")
        }
    }
}
