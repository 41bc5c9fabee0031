import FerryCore

/// Makes differing target rows equal to the source: deletes them from the target by key, then copies
/// the source's rows with those keys through the ordinary load path.
struct RowRepair: Sendable {
    let plan: TablePlan
    let source: any SourceConnector
    let writer: any TargetConnector
    let sourceTable: ChecksumTable
    let targetTable: ChecksumTable
    static let keysPerBatch = 500

    /// Repairs the rows of `differences`; returns the number of rows re-copied from the source.
    func repair(_ differences: [RowDifference], sourceSession: any ChecksumSession, targetSession: any ChecksumSession) async throws -> Int64 {
        try await BlockingWork.run("ferry-repair-check") { [writer, plan] in try writer.prepare(plan.written, mode: .doNothing, related: [:]) }
        var copied: Int64 = 0
        // Runs of missing keys stand for every key in them.
        var rows = differences.lazy.flatMap { difference in difference.keys.lazy.map { (kind: difference.kind, key: $0) } }.makeIterator()
        while true {
            var batch: [(kind: DifferenceKind, key: [String?])] = []
            while batch.count < Self.keysPerBatch, let row = rows.next() { batch.append(row) }
            guard !batch.isEmpty else { break }
            _ = try await BlockingWork.run("ferry-repair-delete") { [targetTable, batch] in
                try targetSession.deleteRows(targetTable, keys: batch.map(\.key))
            }
            let wanted = batch.filter { $0.kind != .extraOnTarget }.map(\.key)
            guard !wanted.isEmpty else { continue }
            let chunk = ReadChunk(index: 0, count: 1, predicate: sourceSession.keyCondition(sourceTable, keys: wanted))
            copied += try await copy(chunk)
        }
        return copied
    }

    private func copy(_ chunk: ReadChunk) async throws -> Int64 {
        let pipe = BatchPipe(capacity: 4, transform: try FullLoadRunner.transformer(for: plan)?.batchTransform(header: .fullLoad()))
        let snapshot = try await BlockingWork.run("ferry-repair-open") { [source] in try source.openSnapshot(workers: 1) }
        defer { snapshot.close() }
        async let read: Void = BlockingWork.run("ferry-repair-read") { [plan] in
            do {
                try snapshot.read(plan, chunk: chunk, encoding: .values, into: pipe)
                pipe.finish()
            } catch {
                pipe.abort(error)
                throw error
            }
        }
        async let written = BlockingWork.run("ferry-repair-write") { [writer, plan] in
            do { return try writer.load(plan.written, encoding: .values, from: pipe) { _ in } } catch {
                pipe.abort(error)
                throw error
            }
        }
        try await read
        return try await written
    }
}
