import FerryCore
import Foundation

/// Tables to load again while a change stream runs (DMS's ReloadTables), between the API, which asks,
/// and the ``ReplicationRunner``, which pauses the stream, copies them and resumes. Also what the
/// statistics show of it: the reload in progress and the last one that finished.
public final class TableReloads: @unchecked Sendable {
    private let lock = NSLock()
    private var pending: [TableID] = []
    private var running: FullLoadStatus?
    private var finished: FullLoadStatus?
    private var finishedCount = 0
    private var reloaded: Set<TableID> = []

    public init() {}

    /// Asks for tables to be loaded again; the stream takes them at its next batch.
    public func request(_ tables: [TableID]) {
        lock.withLock { pending += tables.filter { !pending.contains($0) } }
    }

    var hasPending: Bool { lock.withLock { !pending.isEmpty } }

    func take() -> [TableID] {
        lock.withLock {
            defer { pending = [] }
            return pending
        }
    }

    func began(_ status: FullLoadStatus, _ tables: [TableID]) {
        lock.withLock {
            running = status
            reloaded.formUnion(tables)
        }
    }

    func ended() {
        lock.withLock {
            finished = running
            running = nil
            finishedCount += 1
        }
    }

    /// The reload in progress, the last finished one with how many have finished, and every table
    /// reloaded in this run (DMS's `FullLoadReloaded`).
    public func snapshot() -> (running: FullLoadStatus?, finished: FullLoadStatus?, finishedCount: Int, reloaded: Set<TableID>) {
        lock.withLock { (running, finished, finishedCount, reloaded) }
    }
}
