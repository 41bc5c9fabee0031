import FerryCore
import FerryEngine
import Foundation

/// One load's ``ChunkExchange`` over the catalog's ``ChunkBoard``: `node` runs the task under the claim at
/// `claimEpoch`, and offers are made and taken under it.
public struct CatalogChunkExchange: ChunkExchange {
    let board: ChunkBoard
    let registry: ClusterRegistry
    let task: String
    let claimEpoch: Int64
    let node: String

    public init(board: ChunkBoard, registry: ClusterRegistry, task: String, claimEpoch: Int64, node: String) {
        self.board = board
        self.registry = registry
        self.task = task
        self.claimEpoch = claimEpoch
        self.node = node
    }

    public func nodes() throws -> Int {
        try registry.load(node: node).liveNodes
    }

    public func offer(_ chunks: [SharedChunk]) throws {
        let encoder = JSONEncoder()
        for (table, offered) in Dictionary(grouping: chunks, by: { LoadProgress.key(of: $0.table) }) {
            let bodies = try offered.map { ($0.index, String(decoding: try encoder.encode($0), as: UTF8.self)) }
            try board.offer(task: task, claimEpoch: claimEpoch, table: table, chunks: bodies)
        }
    }

    public func take(_ table: TableID, chunk: Int) throws -> ChunkTake? {
        try board.take(task: task, claimEpoch: claimEpoch, table: LoadProgress.key(of: table), chunk: chunk, node: node)
            .map { ChunkTake(number: $0 + 1) }
    }

    public func state(of table: TableID, chunk: Int) throws -> SharedChunkState {
        guard let record = try board.record(task: task, table: LoadProgress.key(of: table), chunk: chunk) else {
            return .failed(error: "its offer is gone from the catalog", node: node)
        }
        let holder = record.node ?? ""
        if let rows = record.rowsLoaded { return .loaded(rows: rows, node: holder) }
        if let error = record.error { return .failed(error: error, node: holder) }
        return record.node == nil ? .waiting : .loading(node: holder, alive: record.nodeAlive)
    }

    public func loaded(_ table: TableID, chunk: Int, rows: Int64) throws {
        try board.end(task: task, table: LoadProgress.key(of: table), chunk: chunk, node: node, rows: rows, error: nil)
    }

    public func withdraw() throws {
        try board.withdraw(task: task, claimEpoch: claimEpoch)
    }
}
