import FerryCatalog
@testable import FerryCluster
import Foundation
import Testing

/// The board of a full load's chunks other nodes load, in both stores.
@Suite struct ChunkBoardTests {
    static let chunks = [(chunk: 0, body: "c0"), (chunk: 1, body: "c1"), (chunk: 2, body: "c2")]

    @Test(arguments: StoreKind.allCases)
    func helpersTakeWhatTheOwnerHasNotAndEachChunkOnce(_ kind: StoreKind) throws {
        let fixture = try CatalogFixture(kind)
        defer { fixture.remove() }
        let registry = ClusterRegistry(catalog: fixture.catalog), board = ChunkBoard(catalog: fixture.catalog)
        for node in ["a", "b", "c"] { try registry.renew(node: node, address: "") }
        let claim = try #require(try registry.claim(task: "arn:t", node: "a"))
        try board.offer(task: "arn:t", claimEpoch: claim.epoch, table: "app.items", chunks: Self.chunks)

        #expect(try board.take(task: "arn:t", claimEpoch: claim.epoch, table: "app.items", chunk: 0, node: "a") == 0, "the owner's first take")
        #expect(try board.takeNext(node: "a") == nil, "a node does not help its own task")
        let helped = try #require(try board.takeNext(node: "b"))
        #expect(helped == OfferedChunk(taskArn: "arn:t", table: "app.items", chunk: 1, body: "c1", takenBefore: 0))
        #expect(try board.takeNext(node: "c")?.chunk == 2)
        #expect(try board.takeNext(node: "c") == nil, "every chunk is held")
        #expect(try board.take(task: "arn:t", claimEpoch: claim.epoch, table: "app.items", chunk: 1, node: "a") == nil, "a live helper keeps its chunk")

        try board.end(task: "arn:t", table: "app.items", chunk: 1, node: "b", rows: 42, error: nil)
        #expect(try board.record(task: "arn:t", table: "app.items", chunk: 1) == ChunkRecord(node: "b", nodeAlive: true, rowsLoaded: 42, error: nil))
        try board.end(task: "arn:t", table: "app.items", chunk: 2, node: "c", rows: nil, error: "the target refused it")
        #expect(try board.takeNext(node: "b") == nil, "a chunk a helper failed goes back to the owner, not to another helper")
        #expect(try board.take(task: "arn:t", claimEpoch: claim.epoch, table: "app.items", chunk: 2, node: "a") == 1, "its second take")
        #expect(try board.record(task: "arn:t", table: "app.items", chunk: 2)?.error == nil)

        try board.withdraw(task: "arn:t", claimEpoch: claim.epoch)
        #expect(try board.record(task: "arn:t", table: "app.items", chunk: 0) == nil)
    }

    @Test(arguments: StoreKind.allCases)
    func aChunkWhoseNodeDiedIsTakenAgainAndAnEndedClaimsOfferIsPassedOver(_ kind: StoreKind) throws {
        let fixture = try CatalogFixture(kind)
        defer { fixture.remove() }
        let registry = ClusterRegistry(catalog: fixture.catalog), board = ChunkBoard(catalog: fixture.catalog)
        // A lease that lapses soon, but not between two calls on a busy machine.
        let short = ClusterRegistry(catalog: fixture.catalog, policy: LeasePolicy(leaseSeconds: 1.5, renewInterval: 0.3, stopApplyingAfter: 1))
        try registry.renew(node: "a", address: "")
        try registry.renew(node: "c", address: "")
        try short.renew(node: "b", address: "")
        let claim = try #require(try registry.claim(task: "arn:t", node: "a"))
        try board.offer(task: "arn:t", claimEpoch: claim.epoch, table: "app.items", chunks: Self.chunks)
        #expect(try board.takeNext(node: "b")?.chunk == 0)
        Thread.sleep(forTimeInterval: 2)
        #expect(try board.record(task: "arn:t", table: "app.items", chunk: 0)?.nodeAlive == false)
        let again = try #require(try board.takeNext(node: "c"))
        #expect(again.chunk == 0 && again.takenBefore == 1, "b's lease ran out: its chunk is taken again, counted")
        try board.end(task: "arn:t", table: "app.items", chunk: 0, node: "b", rows: 7, error: nil)
        #expect(try board.record(task: "arn:t", table: "app.items", chunk: 0)?.rowsLoaded == nil, "the node that lost it records nothing")

        // The task moves: the offer of the ended claim is passed over, and replaced by the new one's.
        let moved = try #require(try registry.claim(task: "arn:t", node: "a"))
        #expect(try board.takeNext(node: "c") == nil)
        try board.offer(task: "arn:t", claimEpoch: moved.epoch, table: "app.other", chunks: [(0, "o0")])
        #expect(try board.record(task: "arn:t", table: "app.items", chunk: 1) == nil)
        #expect(try board.takeNext(node: "c")?.body == "o0")
    }
}
