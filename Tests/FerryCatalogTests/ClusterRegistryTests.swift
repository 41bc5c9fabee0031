import FerryCatalog
import FerryCluster
import Foundation
import Testing

/// The lease rules, pure.
@Suite struct LeasePolicyTests {
    @Test func aNodeStopsApplyingBeforeItsLeaseCanHaveExpired() {
        let policy = LeasePolicy()
        #expect(policy.stopApplyingAfter < policy.leaseSeconds)
        #expect(policy.renewInterval * 3 <= policy.stopApplyingAfter, "two renewals may fail before a node gives its tasks up")
    }

    @Test func tasksSpreadToAnEvenShare() {
        #expect(LeasePolicy.claimQuota(mine: 0, total: 5, liveNodes: 1) == 5)
        #expect(LeasePolicy.claimQuota(mine: 0, total: 5, liveNodes: 2) == 3)
        #expect(LeasePolicy.claimQuota(mine: 3, total: 5, liveNodes: 2) == 0)
        #expect(LeasePolicy.claimQuota(mine: 1, total: 6, liveNodes: 3) == 1)
        #expect(LeasePolicy.claimQuota(mine: 0, total: 0, liveNodes: 0) == 0)
    }
}

/// Claims, leases and requests in both stores.
@Suite struct ClusterRegistryTests {
    @Test(arguments: StoreKind.allCases)
    func everyClaimRaisesTheEpochAndALiveHolderKeepsItsTask(_ kind: StoreKind) throws {
        let fixture = try CatalogFixture(kind)
        defer { fixture.remove() }
        let registry = ClusterRegistry(catalog: fixture.catalog)
        try registry.renew(node: "a", address: "http://a")
        try registry.renew(node: "b", address: "http://b")
        let first = try #require(try registry.claim(task: "arn:t", node: "a"))
        #expect(first == TaskClaim(taskArn: "arn:t", epoch: 1, previousNode: nil))
        #expect(try registry.claim(task: "arn:t", node: "b") == nil, "a live node's task is not taken")
        #expect(try registry.claimWaiting(node: "b", limit: 5).isEmpty)
        #expect(try registry.owner(of: "arn:t") == "a")
        #expect(try registry.claim(task: "arn:t", node: "a")?.epoch == 2, "claiming again raises the epoch")
        #expect(try !registry.holds(task: "arn:t", node: "a", epoch: 1))

        try registry.leave(node: "a")
        let moved = try registry.claimWaiting(node: "b", limit: 5)
        #expect(moved == [TaskClaim(taskArn: "arn:t", epoch: 3, previousNode: "a")], "the task moved from the node that left")
        try registry.finish(task: "arn:t", node: "a", epoch: 2)
        #expect(try registry.holds(task: "arn:t", node: "b", epoch: 3), "a stale holder cannot end another node's claim")
        try registry.finish(task: "arn:t", node: "b", epoch: 3)
        #expect(try registry.load(node: "b").total == 0)
    }

    @Test(arguments: StoreKind.allCases)
    func aLapsedLeaseLetsAnotherNodeTakeTheTask(_ kind: StoreKind) throws {
        let fixture = try CatalogFixture(kind)
        defer { fixture.remove() }
        // A lease that lapses soon, but not between two calls on a busy machine.
        let short = ClusterRegistry(catalog: fixture.catalog, policy: LeasePolicy(leaseSeconds: 1.5, renewInterval: 0.3, stopApplyingAfter: 1))
        try short.renew(node: "a", address: "")
        _ = try short.claim(task: "arn:t", node: "a")
        try short.renew(node: "b", address: "")
        #expect(try short.claimWaiting(node: "b", limit: 1).isEmpty)
        Thread.sleep(forTimeInterval: 2)
        try short.renew(node: "b", address: "")
        #expect(try short.nodes().first { $0.nodeID == "a" }.map { $0.leaseRemaining < 0 } == true)
        #expect(try short.claimWaiting(node: "b", limit: 1) == [TaskClaim(taskArn: "arn:t", epoch: 2, previousNode: "a")])
        #expect(try short.owner(of: "arn:t") == "b")
    }

    @Test(arguments: StoreKind.allCases)
    func requestsReachTheNodeHoldingTheTask(_ kind: StoreKind) throws {
        let fixture = try CatalogFixture(kind)
        defer { fixture.remove() }
        let registry = ClusterRegistry(catalog: fixture.catalog)
        try registry.renew(node: "a", address: "")
        _ = try registry.claim(task: "arn:t", node: "a")
        try registry.post(TaskRequest(taskArn: "arn:t", kind: .stop, body: ""))
        try registry.post(TaskRequest(taskArn: "arn:other", kind: .reload, body: "[]"))
        #expect(try registry.takeRequests(node: "b").isEmpty)
        #expect(try registry.takeRequests(node: "a") == [TaskRequest(taskArn: "arn:t", kind: .stop, body: "")])
        #expect(try registry.takeRequests(node: "a").isEmpty, "a request is taken once")
    }

    @Test func twoNodesClaimingAtOnceNeverTakeTheSameTask() async throws {
        let fixture = try CatalogFixture(.postgres)
        defer { fixture.remove() }
        let registries = [ClusterRegistry(catalog: fixture.catalog), ClusterRegistry(catalog: try fixture.secondServer())]
        for (index, registry) in registries.enumerated() { try registry.renew(node: "n\(index)", address: "") }
        for task in 0..<40 { try registries[0].want(task: "arn:t\(task)") }
        let taken = await withTaskGroup(of: [TaskClaim].self) { group in
            for (index, registry) in registries.enumerated() {
                group.addTask {
                    var mine: [TaskClaim] = []
                    for _ in 0..<20 { mine += (try? registry.claimWaiting(node: "n\(index)", limit: 2)) ?? [] }
                    return mine
                }
            }
            return await group.reduce(into: []) { $0 += $1 }
        }
        #expect(taken.count == 40)
        #expect(Set(taken.map(\.taskArn)).count == 40, "no task was taken twice")
    }
}
