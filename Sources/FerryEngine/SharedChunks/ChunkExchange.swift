import FerryCore

/// A chunk of a table split into value ranges that another node of the cluster may load: what that node
/// needs to read the same rows and write them under the load's claim.
public struct SharedChunk: Codable, Sendable, Equatable {
    public var table: TableID
    public var index: Int
    /// The table's ranges; the chunk is range `index` of them.
    public var segments: RangeSegments
    /// The load's snapshot, which the other node imports (``SnapshotSession/sharedSnapshot``).
    public var snapshot: String
    /// The epoch of the load's claim on the target; the chunk's rows are written under it.
    public var taskEpoch: Int64
    /// Whether an earlier run of the load may have committed part of the chunk: its rows are removed first.
    public var resumes: Bool

    public init(table: TableID, index: Int, segments: RangeSegments, snapshot: String, taskEpoch: Int64, resumes: Bool) {
        self.table = table
        self.index = index
        self.segments = segments
        self.snapshot = snapshot
        self.taskEpoch = taskEpoch
        self.resumes = resumes
    }
}

/// Where a shared chunk stands, as the cluster's catalog says.
public enum SharedChunkState: Sendable, Equatable {
    /// Offered; no node has taken it.
    case waiting
    /// A node loads it; `alive` is false once that node's lease ran out (the chunk can be taken back).
    case loading(node: String, alive: Bool)
    /// Its rows committed on `node`.
    case loaded(rows: Int64, node: String)
    /// `node` could not load it; the load's own node takes it back.
    case failed(error: String, node: String)
}

/// A node's take of a chunk: the how-manieth under the load's claim (the catalog counts them).
public struct ChunkTake: Sendable, Equatable {
    /// 1 for the first take.
    public var number: Int

    public init(number: Int) {
        self.number = number
    }

    /// Whether a node had it before: some of its rows may be on the target, and are removed first.
    public var again: Bool { number > 1 }
}

/// The other nodes of a cluster, as one full load's runner sees them: it offers them the chunks of its
/// value-range tables, takes each chunk it loads itself (so no chunk loads twice at once), and watches
/// the chunks they took (docs/cluster.md, "One table on several nodes"). Calls block.
public protocol ChunkExchange: Sendable {
    /// How many nodes can load chunks now, this one included.
    func nodes() throws -> Int

    /// Offers `chunks` of this load to the other nodes, in place of any earlier offer of this task.
    func offer(_ chunks: [SharedChunk]) throws

    /// Takes a chunk for this node when no live node holds it (or its node failed it); nil when one
    /// does, or its rows loaded.
    func take(_ table: TableID, chunk: Int) throws -> ChunkTake?

    func state(of table: TableID, chunk: Int) throws -> SharedChunkState

    /// Records that this node loaded the chunk's `rows`.
    func loaded(_ table: TableID, chunk: Int, rows: Int64) throws

    /// Ends the offer: the load is over, or stopped.
    func withdraw() throws
}
