import FerryCore
import Foundation

/// A full load's chunks on several nodes (docs/cluster.md, "One table on several nodes"). The node that
/// runs the load offers the chunks of each table split into value ranges, with the load's snapshot; any
/// node, this one too, takes a chunk before loading it and raises the chunk's claim on the target
/// (``ChunkFence``), so a chunk taken again can be emptied and loaded anew without an earlier taker adding
/// a row. This node loads what it takes, then waits for the chunks other nodes took, taking back those
/// whose node died, and finishes each table after its last chunk.
extension FullLoadRunner {
    /// How many nodes share this load's chunks: 1 (no sharing) unless the load is fenced, has other nodes
    /// to offer chunks to, and reads a snapshot they can import.
    func sharingNodes(_ session: any SnapshotSession) async -> Int {
        guard let exchange = options.chunkExchange, options.fence != nil, session.sharedSnapshot != nil else { return 1 }
        do {
            return try await BlockingWork.run("ferry-chunk-nodes") { try exchange.nodes() }
        } catch {
            logger.warning("the load runs on this node alone: the cluster's nodes could not be counted (\(error))")
            return 1
        }
    }

    /// Offers the chunks of a table still to load to the other nodes (`resumes`: an earlier run may have
    /// committed part of them).
    func offer(_ chunks: [ReadChunk], of table: TableID, segments: RangeSegments, snapshot: String, fence: LoadFence, resumes: Bool) throws {
        try options.chunkExchange?.offer(chunks.map {
            SharedChunk(table: table, index: $0.index, segments: segments, snapshot: snapshot, taskEpoch: fence.epoch, resumes: resumes)
        })
    }

    /// Takes a shared chunk for this node, with its claim on the target; nil when another node has it.
    func take(_ chunk: ReadChunk, of job: Job, journal: LoadJournal?) async throws -> Job? {
        guard let exchange = options.chunkExchange, let journal else { return job }
        let table = job.plan.source.id
        guard let taken = try await BlockingWork.run("ferry-chunk-take", { try exchange.take(table, chunk: chunk.index) }) else { return nil }
        if taken.again { warnTakenAgain(table, chunk: chunk) }
        var job = job
        job.fence?.chunk = try await BlockingWork.run("ferry-chunk-claim") { try journal.claimChunk(table, chunk: chunk.index, take: taken) }
        job.resumes = job.resumes || taken.again
        return job
    }

    /// Says in the log that a chunk another node held loads again here.
    private func warnTakenAgain(_ table: TableID, chunk: ReadChunk) {
        logger.warning("\(table) chunk \(chunk.index + 1)/\(chunk.count): another node held it (its lease ran out, or it failed the chunk); this node empties its range and loads it again")
    }

    /// Tells the other nodes that this node loaded a shared chunk.
    func recordLoaded(_ chunk: ReadChunk, of table: TableID, rows: Int64) async {
        guard let exchange = options.chunkExchange else { return }
        do {
            try await BlockingWork.run("ferry-chunk-loaded") { try exchange.loaded(table, chunk: chunk.index, rows: rows) }
        } catch {
            logger.warning("\(table) chunk \(chunk.index + 1): could not record it loaded in the catalog (\(error))")
        }
    }

    /// Waits for the chunks other nodes took, polling the catalog: counts each one loaded (finishing its
    /// table after the last), and loads here any chunk left waiting, failed on its node, or whose node's
    /// lease ran out.
    func awaitChunks(_ elsewhere: ChunksElsewhere, session: any SnapshotSession, journal: LoadJournal?) async {
        guard let exchange = options.chunkExchange else { return }
        var waiting = elsewhere.jobs
        if !waiting.isEmpty {
            logger.info("waiting for \(waiting.count) chunk\(waiting.count == 1 ? "" : "s") other nodes load")
        }
        while !waiting.isEmpty, !Task.isCancelled, tableErrorStop() == nil {
            var still: [Job] = []
            for job in waiting {
                let id = job.plan.source.id
                guard let chunk = job.chunk, status.get(id)?.state == .loading || status.get(id)?.state == .queued else { continue }
                do {
                    switch try await BlockingWork.run("ferry-chunk-state", { try exchange.state(of: id, chunk: chunk.index) }) {
                    case let .loaded(rows, node):
                        logger.info("\(id) chunk \(chunk.index + 1)/\(chunk.count) loaded on node \(node) (\(rows) rows)")
                        status.update(id) {
                            if $0.startedAt == nil { $0.startedAt = Date() }
                            $0.state = .loading
                            $0.rowsLoaded += rows
                        }
                        await chunkDone(job, cutValues: [:], journal: journal)
                    case .loading(_, alive: true):
                        still.append(job)
                    case let .failed(error, node):
                        logger.warning("\(id) chunk \(chunk.index + 1)/\(chunk.count) failed on node \(node) (\(error)); this node loads it")
                        fallthrough
                    case .waiting, .loading(_, alive: false):
                        // Loaded here, unless another node takes it first.
                        let retaken = ChunksElsewhere()
                        await copy(job, session: session, journal: journal, elsewhere: retaken)
                        still += retaken.jobs
                    }
                } catch {
                    fail(id, error)
                }
            }
            waiting = still
            if !waiting.isEmpty { try? await Task.sleep(for: .milliseconds(250)) }
        }
    }

    /// Ends the offer of this load's chunks.
    func withdrawOffer() {
        do { try options.chunkExchange?.withdraw() } catch {
            logger.warning("could not withdraw the load's chunks from the catalog (\(error)); other nodes pass them over once this run's claim ends")
        }
    }

    /// Loads one chunk another node's load offered, with the claim `options.fence` names (the task's, at
    /// the offer's epoch): imports the load's snapshot, claims the chunk on the target for this `take`,
    /// empties it first when it was taken before, and records it loaded in the target's progress. Returns
    /// the rows loaded.
    public func loadShared(_ chunk: SharedChunk, take: ChunkTake) async throws -> Int64 {
        guard let fence = options.fence else { throw FerryError(.invalidParameter, "a shared chunk loads only under the task's claim") }
        let (plan, session, journal) = try await BlockingWork.run("ferry-chunk-open") { [self] in
            guard let schema = try source.discoverTables(options.mappings).first(where: { $0.id == chunk.table }) else {
                throw FerryError(.notFound, "source table \(chunk.table) no longer matches the task's selection rules")
            }
            let plan = try self.plan(for: schema)
            let session = try source.openSnapshot(workers: 1, importing: chunk.snapshot)
            do {
                return (plan, session, try LoadJournal(target: target, fence: fence))
            } catch {
                session.close()
                throw error
            }
        }
        defer {
            session.close()
            journal.close()
        }
        let chunks = try await BlockingWork.run("ferry-chunk-split") { try session.chunks(of: plan.source, segments: chunk.segments) }
        guard chunks.indices.contains(chunk.index), chunks.count == chunk.segments.count else {
            throw FerryError(.invalidParameter, "chunk \(chunk.index) of \(chunk.table) is not one of its \(chunks.count) ranges")
        }
        if take.again { warnTakenAgain(chunk.table, chunk: chunks[chunk.index]) }
        var loadFence = fence
        loadFence.chunk = try await BlockingWork.run("ferry-chunk-claim") { try journal.claimChunk(chunk.table, chunk: chunk.index, take: take) }
        status.add(TableProgress(source: chunk.table, target: plan.target))
        status.update(chunk.table) { $0.state = .loading }
        let job = Job(plan: plan, chunk: chunks[chunk.index], segments: chunk.segments, resumes: take.again || chunk.resumes, fence: loadFence,
                      encoding: encoding(for: plan), order: 0, estimatedRows: 0)
        guard let copied = await copy(chunks[chunk.index], of: job, session: session, journal: journal) else {
            let ended = status.get(chunk.table)
            if ended?.fenced == true, let claim = loadFence.chunk { throw FerryError.fenced(task: claim.key, epoch: claim.epoch) }
            if ended?.state == .cancelled { throw FerryError.cancelled }
            throw FerryError(.database, ended?.error ?? "the chunk stopped")
        }
        return copied.rows
    }
}

/// The shared chunks other nodes took while this node went through its own.
final class ChunksElsewhere: @unchecked Sendable {
    private let lock = NSLock()
    private var taken: [FullLoadRunner.Job] = []

    func add(_ job: FullLoadRunner.Job) { lock.withLock { taken.append(job) } }
    var jobs: [FullLoadRunner.Job] { lock.withLock { taken } }
}
