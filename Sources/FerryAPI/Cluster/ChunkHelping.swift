import FerryCluster
import FerryConnectors
import FerryCore
import FerryEngine
import Foundation

/// The chunks of other nodes' loads this node is loading, each in a task of its own.
actor ChunkHelpers {
    private var running: [String: Task<Void, Never>] = [:]

    /// How many chunks a node loads for others at once: as many as of a load of its own.
    static let capacity = FullLoadOptions.chunksPerNode

    var count: Int { running.count }

    func start(_ name: String, _ work: @escaping @Sendable () async -> Void) {
        running[name] = Task {
            await work()
            self.ended(name)
        }
    }

    private func ended(_ name: String) { running[name] = nil }

    /// Stops every chunk this node loads for others (it lost its lease, or shuts down) and waits for them.
    func cancelAll() async {
        let tasks = Array(running.values)
        for task in tasks { task.cancel() }
        for task in tasks { await task.value }
    }
}

/// This node's help with other nodes' full loads (docs/cluster.md, "One table on several nodes"): at each
/// round it takes chunks they offer, up to ``ChunkHelpers/capacity``, and loads each under the task's
/// claim and the chunk's own.
extension DMSService {
    var chunkBoard: ChunkBoard { ChunkBoard(catalog: catalog) }

    /// Takes offered chunks while this node has room for them.
    func helpWithChunks() async throws {
        while await chunkHelpers.count < ChunkHelpers.capacity, let offered = try chunkBoard.takeNext(node: node.id) {
            await chunkHelpers.start("\(offered.taskArn)/\(offered.table)/\(offered.chunk)") { [self] in await self.loadForAnotherNode(offered) }
        }
    }

    /// Loads one offered chunk and records in the catalog how it ended. A chunk stopped here (the node
    /// lost its lease or shuts down) goes back to the board; one a later claim fenced off is left alone,
    /// as its new holder records it.
    private func loadForAnotherNode(_ offered: OfferedChunk) async {
        let board = chunkBoard
        func end(rows: Int64?, error: String?) {
            do { try board.end(task: offered.taskArn, table: offered.table, chunk: offered.chunk, node: node.id, rows: rows, error: error) } catch {
                logger.warning("node \(node.id) could not record chunk \(offered.chunk) of \(offered.table) in the catalog: \(error)")
            }
        }
        do {
            let chunk = try JSONDecoder().decode(SharedChunk.self, from: Data(offered.body.utf8))
            guard let task = try catalog.get(.task, arn: offered.taskArn, as: ReplicationTask.self) else { return end(rows: nil, error: "the task was deleted") }
            var run = try taskRun(task, startType: "start-replication")
            run.options.fence = LoadFence(task: run.identifier, epoch: chunk.taskEpoch, controlSchema: run.options.controlSchema)
            let runner = FullLoadRunner(source: Connectors.source(for: run.source), target: Connectors.target(for: run.target), options: run.options,
                                        logger: logger)
            logger.info("node \(node.id) loads chunk \(offered.chunk + 1)/\(chunk.segments.count) of \(chunk.table) for task \(run.identifier)")
            let rows = try await runner.loadShared(chunk, take: ChunkTake(number: offered.takenBefore + 1))
            end(rows: rows, error: nil)
        } catch where Task.isCancelled || (error as? FerryError)?.kind == .cancelled {
            end(rows: nil, error: nil)
        } catch where (error as? FerryError)?.kind == .fenced {
            logger.info("node \(node.id): chunk \(offered.chunk) of \(offered.table) was taken over (\(error))")
        } catch {
            logger.warning("node \(node.id) could not load chunk \(offered.chunk) of \(offered.table) for another node: \(error)")
            end(rows: nil, error: "\(error)")
        }
    }
}
