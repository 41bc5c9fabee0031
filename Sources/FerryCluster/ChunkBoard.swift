import FerryCatalog
import Foundation

/// A chunk of a full load as the catalog lists it, for another node to load.
public struct OfferedChunk: Sendable, Equatable {
    public var taskArn: String
    public var table: String
    public var chunk: Int
    /// What the node needs to load it (the engine's ``SharedChunk``, as JSON).
    public var body: String
    /// How many times a node took it before: more than none, and some of its rows may be on the target.
    public var takenBefore: Int
}

/// A chunk's row in the catalog: who holds it, and how it ended.
public struct ChunkRecord: Sendable, Equatable {
    public var node: String?
    /// Whether `node`'s lease is alive.
    public var nodeAlive: Bool
    public var rowsLoaded: Int64?
    public var error: String?
}

/// The catalog's board of full-load chunks other nodes may load (`load_chunks`; docs/cluster.md, "One
/// table on several nodes"). The node running a load offers them under its claim's epoch; any node takes
/// one (`FOR UPDATE SKIP LOCKED`, like a task) when no live node holds it; the taker records how it ended.
/// Offers of a claim that ended are passed over. Times are the catalog's.
public struct ChunkBoard: Sendable {
    let store: any CatalogStore

    /// Helpers give a chunk up after this many takes; the load's own node then loads it.
    public static let maxTakesByHelpers = 3

    public init(catalog: Catalog) {
        store = catalog.store
    }

    private var now: String { store.dialect.now }

    private var nodeAlive: String { "EXISTS (SELECT 1 FROM cluster_nodes n WHERE n.node_id = l.node_id AND n.lease_expires_at > \(now))" }

    /// Offers a table's chunks for the task's claim at `claimEpoch`, in place of any earlier offer of the
    /// table and of every offer of the task's earlier claims.
    public func offer(task: String, claimEpoch: Int64, table: String, chunks: [(chunk: Int, body: String)]) throws {
        try store.write { db in
            try db.execute("DELETE FROM load_chunks WHERE task_arn = ? AND (claim_epoch <> ? OR table_key = ?)", [task, claimEpoch, table])
            for chunk in chunks {
                try db.execute("INSERT INTO load_chunks (task_arn, claim_epoch, table_key, chunk, body, offered_at) VALUES (?, ?, ?, ?, ?, \(now))",
                               [task, claimEpoch, table, chunk.chunk, chunk.body])
            }
        }
    }

    /// Takes one chunk of the task's offer at `claimEpoch` for `node` (the load's own), unless a live node
    /// holds it or its rows loaded: a chunk another node failed is taken too. Returns how many times it
    /// was taken before; nil when it cannot be taken.
    public func take(task: String, claimEpoch: Int64, table: String, chunk: Int, node: String) throws -> Int? {
        try store.write { db in
            guard let row = try db.row("""
                SELECT l.taken FROM load_chunks l WHERE l.task_arn = ? AND l.claim_epoch = ? AND l.table_key = ? AND l.chunk = ?
                  AND l.rows_loaded IS NULL AND (l.node_id IS NULL OR l.error IS NOT NULL OR NOT \(nodeAlive))\(store.dialect.forUpdate)
                """, [task, claimEpoch, table, chunk]) else { return nil }
            let taken = try row.int("taken")
            try db.execute("UPDATE load_chunks SET node_id = ?, taken = taken + 1, error = NULL WHERE task_arn = ? AND table_key = ? AND chunk = ?",
                           [node, task, table, chunk])
            return taken
        }
    }

    /// Takes, for `node` to help with, the oldest chunk offered by a live node running a task `node` does
    /// not run, that no live node holds; rows other nodes are taking at this moment are passed over.
    public func takeNext(node: String) throws -> OfferedChunk? {
        try store.write { db in
            guard let row = try db.row("""
                SELECT l.task_arn, l.table_key, l.chunk, l.body, l.taken FROM load_chunks l
                WHERE l.rows_loaded IS NULL AND l.error IS NULL AND l.taken < ? AND (l.node_id IS NULL OR NOT \(nodeAlive))
                  AND EXISTS (SELECT 1 FROM task_claims c JOIN cluster_nodes o ON o.node_id = c.node_id
                              WHERE c.task_arn = l.task_arn AND c.epoch = l.claim_epoch AND c.node_id <> ? AND o.lease_expires_at > \(now))
                ORDER BY l.offered_at, l.table_key, l.chunk LIMIT 1\(store.dialect.forUpdateSkipLocked)
                """, [Self.maxTakesByHelpers, node]) else { return nil }
            let offered = OfferedChunk(taskArn: try row.string("task_arn"), table: try row.string("table_key"), chunk: try row.int("chunk"),
                                       body: try row.string("body"), takenBefore: try row.int("taken"))
            try db.execute("UPDATE load_chunks SET node_id = ?, taken = taken + 1 WHERE task_arn = ? AND table_key = ? AND chunk = ?",
                           [node, offered.taskArn, offered.table, offered.chunk])
            return offered
        }
    }

    /// The chunk's row; nil when it is not offered (any more).
    public func record(task: String, table: String, chunk: Int) throws -> ChunkRecord? {
        try store.read { db in
            try db.row("""
                SELECT l.node_id, \(nodeAlive) AS alive, l.rows_loaded, l.error FROM load_chunks l
                WHERE l.task_arn = ? AND l.table_key = ? AND l.chunk = ?
                """, [task, table, chunk]).map { row in
                ChunkRecord(node: try row.optionalString("node_id"), nodeAlive: try row.bool("alive"),
                            rowsLoaded: try row.optionalString("rows_loaded").flatMap { Int64($0) }, error: try row.optionalString("error"))
            }
        }
    }

    /// Records how a chunk `node` holds ended: its rows loaded, or the error that stopped it (nil and nil:
    /// `node` gives it back, for another node to take; still counted as taken, as it may have written rows).
    public func end(task: String, table: String, chunk: Int, node: String, rows: Int64?, error: String?) throws {
        try store.write { db in
            if rows == nil, error == nil {
                try db.execute("UPDATE load_chunks SET node_id = NULL WHERE task_arn = ? AND table_key = ? AND chunk = ? AND node_id = ?",
                               [task, table, chunk, node])
            } else {
                try db.execute("UPDATE load_chunks SET rows_loaded = ?, error = ? WHERE task_arn = ? AND table_key = ? AND chunk = ? AND node_id = ?",
                               [rows, error, task, table, chunk, node])
            }
        }
    }

    /// Removes the task's offers (its load is over; or, with `claimEpoch`, only that claim's).
    public func withdraw(task: String, claimEpoch: Int64? = nil) throws {
        try store.write { db in
            if let claimEpoch {
                try db.execute("DELETE FROM load_chunks WHERE task_arn = ? AND claim_epoch = ?", [task, claimEpoch])
            } else {
                try db.execute("DELETE FROM load_chunks WHERE task_arn = ?", [task])
            }
        }
    }
}
