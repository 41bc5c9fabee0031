import FerryCatalog
import FerryCluster
import FerryConnectors
import FerryCore
import FerryEngine
import FerryPostgres
import Foundation
import Testing

/// A full load whose chunks two nodes load: the runner offers them on the cluster's board (a real
/// catalog), and a second node's loop takes and loads them, as `ferry serve` does at each round.
@Suite("A table's chunks load on several nodes")
struct SharedChunkTests {
    static let rows = 120_000

    /// A node of the test cluster: a catalog of its own on the shared store, the board and the registry.
    struct Cluster {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("ferry-shared-\(UUID().uuidString)")
        let catalog: Catalog
        let board: ChunkBoard
        let registry: ClusterRegistry

        init() throws {
            catalog = try Catalog(directory: directory)
            board = ChunkBoard(catalog: catalog)
            registry = ClusterRegistry(catalog: catalog)
        }

        func remove() { try? FileManager.default.removeItem(at: directory) }

        /// Renews the nodes' leases every 0.2 s, as their servers would, until cancelled.
        func renewing(_ nodes: [String], in registry: ClusterRegistry? = nil) -> Task<Void, Never> {
            let registry = registry ?? self.registry
            return Task {
                while !Task.isCancelled {
                    _ = try? await BlockingWork.run("test-renew") { for node in nodes { try registry.renew(node: node, address: "") } }
                    try? await Task.sleep(for: .milliseconds(200))
                }
            }
        }

        /// The board's next chunk for `node`, taken off the cooperative threads (the catalog's calls block).
        func takeNext(node: String) async throws -> OfferedChunk? {
            try await BlockingWork.run("test-take") { [board] in try board.takeNext(node: node) }
        }
    }

    static func source() throws -> TestDatabase {
        let source = try TestDatabase.make(.postgres, label: "src")
        try source.execute("CREATE TABLE app.items (id bigint PRIMARY KEY, note text); INSERT INTO app.items SELECT g, md5(g::text) FROM generate_series(1, \(rows)) g")
        return source
    }

    /// The owner's load of `task` on node a, with its claim on the target and its offer on the board.
    static func ownerOptions(_ source: TestDatabase, _ target: TestDatabase, task: String, cluster: Cluster) throws -> FullLoadOptions {
        var options = FullLoadOptions(mappings: try TableMappings(json: migrationRules(source, target)), parallelism: 2)
        options.chunkBytes = 1 << 18
        options.taskName = task
        options.fence = try FullLoadRunner.claim(task: task, on: Connectors.target(for: target.url), controlSchema: "")
        let claim = try #require(try cluster.registry.claim(task: "arn:\(task)", node: "a"))
        options.chunkExchange = CatalogChunkExchange(board: cluster.board, registry: cluster.registry, task: "arn:\(task)", claimEpoch: claim.epoch, node: "a")
        return options
    }

    /// Node `node` loading one offered chunk, under the task's claim at the offer's epoch.
    static func help(_ offered: OfferedChunk, node: String, options: FullLoadOptions, source: TestDatabase, target: TestDatabase) async throws -> Int64 {
        let chunk = try JSONDecoder().decode(SharedChunk.self, from: Data(offered.body.utf8))
        var options = options
        options.chunkExchange = nil
        options.fence?.epoch = chunk.taskEpoch
        let runner = FullLoadRunner(source: Connectors.source(for: source.url), target: Connectors.target(for: target.url), options: options)
        return try await runner.loadShared(chunk, take: ChunkTake(number: offered.takenBefore + 1))
    }

    static func count(_ target: TestDatabase) throws -> String {
        try target.query("SELECT count(*), count(DISTINCT id), sum(length(note)) FROM \(target.qualified("items"))").first?.map { $0 ?? "" }.joined(separator: "|") ?? ""
    }

    @Test("the owner loads some chunks, the other node the rest, and the table finishes once all are in")
    func twoNodesLoadOneTable() async throws {
        let source = try Self.source(), target = try TestDatabase.make(.postgres, label: "dst"), cluster = try Cluster()
        defer { source.drop(); target.drop(); cluster.remove() }
        let renewal = cluster.renewing(["a", "b"])
        defer { renewal.cancel() }
        try await waitUntil(seconds: 10) { try cluster.registry.load(node: "a").liveNodes == 2 }
        let task = "shared-\(UUID().uuidString.prefix(8).lowercased())"
        let options = try Self.ownerOptions(source, target, task: task, cluster: cluster)
        let owner = FullLoadRunner(source: Connectors.source(for: source.url), target: Connectors.target(for: target.url), options: options)
        let helper = Task {
            var helped: [Int64] = []
            while !Task.isCancelled {
                guard let offered = try await cluster.takeNext(node: "b") else {
                    try? await Task.sleep(for: .milliseconds(20))
                    continue
                }
                let rows = try await Self.help(offered, node: "b", options: options, source: source, target: target)
                try cluster.board.end(task: offered.taskArn, table: offered.table, chunk: offered.chunk, node: "b", rows: rows, error: nil)
                helped.append(rows)
            }
            return helped
        }
        let tables = try await owner.run()
        helper.cancel()
        let helped = try await helper.value
        let table = try #require(tables.first)
        #expect(table.state == .completed, "\(table)")
        #expect(table.chunks == 4 && table.chunksDone == 4, "two nodes, two chunks each: \(table)")
        #expect(table.rowsLoaded == Int64(Self.rows), "the other node's rows count in the table's")
        #expect(!helped.isEmpty && helped.reduce(0, +) < Int64(Self.rows), "both nodes loaded chunks: \(helped)")
        #expect(try Self.count(target) == "\(Self.rows)|\(Self.rows)|\(Self.rows * 32)")
        #expect(try cluster.board.takeNext(node: "b") == nil, "the offer ended with the load")
        let progress = try Connectors.target(for: target.url).openApplier(controlSchema: "")
        defer { progress.close() }
        #expect(LoadProgress(rows: try progress.loadProgress(task: task)).table(TableID(schema: "app", name: "items"))?.loadedChunks.count == 4)
    }

    @Test("a chunk whose node stopped renewing its lease is taken back and loaded again, and that node's later writes are refused")
    func aLostHelpersChunkIsTakenBack() async throws {
        let source = try Self.source(), target = try TestDatabase.make(.postgres, label: "dst"), cluster = try Cluster()
        defer { source.drop(); target.drop(); cluster.remove() }
        // Node b's lease is short, but long enough to outlast a slow renewal on a busy machine: a lapse
        // before the owner counts the nodes would leave b no chunk to take.
        let short = ClusterRegistry(catalog: cluster.catalog, policy: LeasePolicy(leaseSeconds: 2, renewInterval: 0.2, stopApplyingAfter: 1.5))
        let renewal = cluster.renewing(["a"]), helperRenewal = cluster.renewing(["b"], in: short)
        defer { renewal.cancel() }
        try await waitUntil(seconds: 10) { try cluster.registry.load(node: "a").liveNodes == 2 }
        let task = "shared-lost-\(UUID().uuidString.prefix(8).lowercased())"
        var options = try Self.ownerOptions(source, target, task: task, cluster: cluster)
        let owner = FullLoadRunner(source: Connectors.source(for: source.url), target: Connectors.target(for: target.url), options: options)
        let loading = Task { try await owner.run() }
        // Node b takes one chunk, then loads it in small transactions without renewing its lease again: a
        // node cut off from the catalog that still reaches the target.
        var offered: OfferedChunk?
        let deadline = ContinuousClock.now + .seconds(60)
        while offered == nil, ContinuousClock.now < deadline {
            offered = try await cluster.takeNext(node: "b")
            try await Task.sleep(for: .milliseconds(20))
        }
        helperRenewal.cancel()
        options.commitRows = 1
        let taken = try #require(offered)
        let zombie = Task { try await Self.help(taken, node: "b", options: options, source: source, target: target) }
        // Once b has claimed its chunk on the target, a session holds the chunk's claim row: b's next
        // transaction waits there (a paused node), whatever the machine's speed, until the task's node has
        // taken the chunk back in the catalog and is claiming it on the target too.
        let key = ChunkFence.key(task: task, table: "app.items", chunk: taken.chunk)
        let pause = try PGConnection(target.url)
        try await waitUntil(seconds: 60) { try !target.query("SELECT 1 FROM public.ferry_apply_status WHERE task_name = '\(key)'").isEmpty }
        try await BlockingWork.run("test-pause") {
            try pause.execute("BEGIN; SELECT 1 FROM public.ferry_apply_status WHERE task_name = \(PGConnection.literal(key)) FOR UPDATE")
        }
        try await waitUntil(seconds: 60) { try cluster.board.record(task: "arn:\(task)", table: "app.items", chunk: taken.chunk)?.node == "a" }
        try await BlockingWork.run("test-resume") { try pause.execute("COMMIT") }
        let tables = try await loading.value
        let refused = await #expect(throws: FerryError.self) { try await zombie.value }
        #expect(refused?.kind == .fenced, "\(String(describing: refused))")
        let table = try #require(tables.first)
        #expect(table.state == .completed && table.chunksDone == 4, "\(table)")
        #expect(try Self.count(target) == "\(Self.rows)|\(Self.rows)|\(Self.rows * 32)", "the chunk holds its rows once")
    }

    @Test("a chunk's claim refuses an earlier taker, even one that claims after the later one", arguments: [EngineKind.postgres, .mysql, .sqlite])
    func chunkClaimsOnlyGrow(target engine: EngineKind) throws {
        let target = try TestDatabase.make(engine, label: "dst")
        defer { target.drop() }
        let task = "chunk-claim-\(UUID().uuidString.prefix(8).lowercased())"
        let writer = Connectors.target(for: target.url)
        let fence = try FullLoadRunner.claim(task: task, on: writer, controlSchema: "")
        let applier = try writer.openApplier(controlSchema: "")
        defer { applier.close() }
        applier.hold(task: task, epoch: fence.epoch)
        let key = ChunkFence.key(task: task, table: "app.items", chunk: 3)
        let second = ChunkFence(key: key, epoch: ChunkFence.epoch(taskEpoch: fence.epoch, take: 2))
        try applier.claimChunk(second)
        let first = ChunkFence(key: key, epoch: ChunkFence.epoch(taskEpoch: fence.epoch, take: 1))
        #expect(throws: FerryError.self) { try applier.claimChunk(first) }
        applier.hold(chunk: first)
        #expect(throws: FerryError.self, "the earlier taker writes nothing") {
            try applier.saveLoadProgress([LoadProgress.chunkRow(TableID(schema: "app", name: "items"), chunk: 3, rows: 1)], task: task, replacing: .none)
        }
        applier.hold(chunk: second)
        try applier.saveLoadProgress([LoadProgress.chunkRow(TableID(schema: "app", name: "items"), chunk: 3, rows: 1)], task: task, replacing: .none)

        // A later claim on the task refuses the chunk's claims made under the earlier one.
        _ = try FullLoadRunner.claim(task: task, on: writer, controlSchema: "")
        #expect(throws: FerryError.self) { try applier.claimChunk(ChunkFence(key: key, epoch: ChunkFence.epoch(taskEpoch: fence.epoch, take: 3))) }
        try applier.forget(task: task)
        // MySQL keeps every task's rows in one control database.
        let status = engine == .mysql ? "awsdms_control.ferry_apply_status" : "ferry_apply_status"
        #expect(try target.query("SELECT count(*) FROM \(status) WHERE task_name LIKE '\(task)%'").first?[0] == "0",
                "forgetting the task removes its chunks' claims too")
    }
}
