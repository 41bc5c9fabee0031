/// One chunk's claim on the target, for a full load whose chunks several nodes load (docs/cluster.md,
/// "One table on several nodes"). It is a row of `ferry_apply_status` of its own, beside the task's: a
/// node that takes the chunk raises the row's epoch to ``epoch(taskEpoch:take:)``, in a transaction that
/// checks the task's claim, and every transaction that writes the chunk's rows checks both. A node that
/// took the chunk earlier and still writes (a paused process, a node cut off) is refused, even when it
/// claims only after the later taker did, and so is every node once the task moves.
public struct ChunkFence: Sendable, Equatable {
    /// The chunk's row in `ferry_apply_status` (``key(task:table:chunk:)``).
    public var key: String
    public var epoch: Int64

    public init(key: String, epoch: Int64) {
        self.key = key
        self.epoch = epoch
    }

    /// The epoch of a chunk's claim: the load's claim on the task, then how many times the chunk was taken
    /// under it (the catalog counts), so that it only grows, across takes and across the task's moves.
    public static func epoch(taskEpoch: Int64, take: Int) -> Int64 {
        taskEpoch << 24 | Int64(min(take, 1 << 24 - 1))
    }

    /// What starts the name of every chunk row of `task`, so that forgetting the task removes them too.
    public static func prefix(task: String) -> String { "\(task)~chunk~" }

    /// The row of chunk `chunk` of `table` (``LoadProgress/key(of:)``) of `task`: the table's key is hashed,
    /// so that the name stays short (MySQL keeps 255 characters of it).
    public static func key(task: String, table: String, chunk: Int) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in table.utf8 { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 }
        let hex = String(hash, radix: 16)
        return prefix(task: task) + String(repeating: "0", count: 16 - hex.count) + hex + "~\(chunk)"
    }

    /// The rows a transaction checks, with the epoch each must still hold: the task's, then the chunk's
    /// when it loads one.
    public static func claims(task: String, epoch: Int64, chunk: ChunkFence?) -> [(row: String, epoch: Int64)] {
        [(task, epoch)] + (chunk.map { [($0.key, $0.epoch)] } ?? [])
    }
}
