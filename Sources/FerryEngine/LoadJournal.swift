import FerryCore
import Foundation

/// Where a fenced full load records its progress on the target (``LoadProgress``, in the control schema
/// beside `ferry_apply_status`): each table's split before its chunks load, each chunk once its rows
/// committed, each table once it finished. Every write goes through an applier that holds the load's
/// claim, so a run that lost the task records nothing more. Calls block and are serialised (one
/// connection).
final class LoadJournal: @unchecked Sendable {
    private let applier: any ChangeApplier
    private let task: String
    private let epoch: Int64
    private let lock = NSLock()

    init(target: any TargetConnector, fence: LoadFence) throws {
        applier = try target.openApplier(controlSchema: fence.controlSchema)
        applier.hold(task: fence.task, epoch: fence.epoch)
        task = fence.task
        epoch = fence.epoch
    }

    /// What earlier runs of the task recorded.
    func read() throws -> LoadProgress {
        try using { LoadProgress(rows: try applier.loadProgress(task: task)) }
    }

    /// Starts the task's progress afresh: a new load, whose snapshot meets change capture at `captureStart`.
    func start(captureStart: String?) throws {
        try save([LoadProgress.startRow(captureStart)], replacing: .task)
    }

    /// Records how a table that was just prepared is split; its earlier chunks are forgotten.
    func began(_ table: TableID, segments: RangeSegments?) throws {
        try save([LoadProgress.tableRow(table, segments: segments, finished: false)], replacing: .table(LoadProgress.key(of: table)))
    }

    /// Records that a chunk's `rows` committed (checking the chunk's claim too, for a shared chunk).
    func loaded(_ table: TableID, chunk: Int, rows: Int64, under chunkFence: ChunkFence? = nil) throws {
        try using {
            applier.hold(chunk: chunkFence)
            defer { applier.hold(chunk: nil) }
            try applier.saveLoadProgress([LoadProgress.chunkRow(table, chunk: chunk, rows: rows)], task: task, replacing: .none)
        }
    }

    /// Takes chunk `chunk` of `table` for this node, on its `take`-th take under the load's claim
    /// (``ChunkFence``); throws `.fenced` when a later take has it.
    func claimChunk(_ table: TableID, chunk: Int, take: ChunkTake) throws -> ChunkFence {
        let fence = ChunkFence(key: ChunkFence.key(task: task, table: LoadProgress.key(of: table), chunk: chunk),
                               epoch: ChunkFence.epoch(taskEpoch: epoch, take: take.number))
        try using { try applier.claimChunk(fence) }
        return fence
    }

    /// Records that a table finished: its rows, key, counters and indexes.
    func finished(_ table: TableID, segments: RangeSegments?) throws {
        try save([LoadProgress.tableRow(table, segments: segments, finished: true)], replacing: .none)
    }

    /// Removes from the target what a chunk that did not finish may have committed.
    func clear(_ chunk: Int, of segments: RangeSegments, from plan: TablePlan, under chunkFence: ChunkFence? = nil) throws {
        try using {
            applier.hold(chunk: chunkFence)
            defer { applier.hold(chunk: nil) }
            try applier.deleteSegment(chunk, of: segments, from: plan)
        }
    }

    func close() {
        lock.withLock { applier.close() }
    }

    /// Runs `body` on the applier, one call at a time, then lets the applier's connection go until the
    /// next: the journal writes once per chunk, and a SQLite file's copy may have the file to itself between.
    private func using<T>(_ body: () throws -> T) throws -> T {
        try lock.withLock {
            defer { applier.idle() }
            return try body()
        }
    }

    private func save(_ rows: [LoadProgressRow], replacing: LoadProgressRow.Scope) throws {
        try using { try applier.saveLoadProgress(rows, task: task, replacing: replacing) }
    }
}
