import FerryCore
import Foundation

/// Validates one table: compares per-bucket row counts and hash sums computed inside both databases,
/// refines the buckets that differ until they are small, then fetches only those rows and compares them
/// value by value. Memory is bounded by `fetchRows` and `failureMaxCount`, whatever the table size.
public struct TableValidator: Sendable {
    public let source: ChecksumTable
    public let target: ChecksumTable
    public let options: ValidationOptions

    public init(source: ChecksumTable, target: ChecksumTable, options: ValidationOptions) {
        self.source = source
        self.target = target
        self.options = options
    }

    /// Runs the comparison over one session per side.
    public func run(source sourceSession: any ChecksumSession, target targetSession: any ChecksumSession) async throws -> TableValidation {
        let started = Date()
        var result = TableValidation(source: source.id, target: target.id, state: .validated)
        result.keyColumns = source.key.map { source.columns[$0].name }
        let sides = Sides(source: source, target: target, sourceSession: sourceSession, targetSession: targetSession)
        let partitioning = try await choosePartitioning(sides)
        let (sourceSums, targetSums) = try await sides.both { table, session in
            try session.checksums(table, partitioning, buckets: nil)
        }
        result.verdictSeconds = Date().timeIntervalSince(started)
        result.sourceRows = sourceSums.values.reduce(0) { $0 + $1.count }
        result.targetRows = targetSums.values.reduce(0) { $0 + $1.count }
        if source.key.isEmpty {
            result.state = .noPrimaryKey
            result.differenceCount = sourceSums == targetSums ? 0 : 1
            result.seconds = Date().timeIntervalSince(started)
            return result
        }
        var collector = DifferenceCollector(source: source, target: target, limit: options.failureMaxCount)
        // A finer level's last range may reach past its parent bucket; `below` keeps the rows there out, as
        // the parent's neighbour compares them.
        var work: [(level: Partitioning, source: [Int64: BucketChecksum], target: [Int64: BucketChecksum], below: Int64?)] =
            [(partitioning, sourceSums, targetSums, nil)]
        while let (level, sourceLevel, targetLevel, below) = work.popLast() {
            let differing = Set(sourceLevel.keys).union(targetLevel.keys)
                .filter { sourceLevel[$0] != targetLevel[$0] }.sorted()
            var batch: [Int64] = []
            var batchRows: Int64 = 0
            for bucket in differing {
                let size = max(sourceLevel[bucket]?.count ?? 0, targetLevel[bucket]?.count ?? 0)
                if size > options.fetchRows, let (finer, buckets) = refine(level, bucket: bucket, size: size) {
                    let (s, t) = try await sides.both { table, session in try session.checksums(table, finer, buckets: buckets) }
                    let end = level.range(of: bucket)?.upper
                    work.append((finer, s, t, [end, below].compactMap { $0 }.min()))
                    continue
                }
                if batchRows + size > options.fetchRows, !batch.isEmpty {
                    try await compareRows(level, batch, below: below, sides, &collector)
                    batch.removeAll()
                    batchRows = 0
                }
                batch.append(bucket)
                batchRows += size
            }
            if !batch.isEmpty { try await compareRows(level, batch, below: below, sides, &collector) }
        }
        var suspended: Set<[String?]> = []
        if let settle = options.settle {
            (collector, suspended) = try await recheck(collector, settle, sides)
        }
        result.differenceCounts = collector.counts
        for difference in collector.candidates where suspended.contains(difference.key) {
            result.differenceCounts[difference.kind, default: 0] -= 1
        }
        result.differenceCounts = result.differenceCounts.filter { $0.value > 0 }
        result.differenceCount = result.differenceCounts.values.reduce(0, +)
        result.differences = collector.kept.filter { !suspended.contains($0.key) }
        result.suspendedCount = Int64(suspended.count)
        result.rowsFetched = collector.rowsFetched
        result.state = result.differenceCount > 0 ? .mismatchedRecords : suspended.isEmpty ? .validated : .suspendedRecords
        result.seconds = Date().timeIntervalSince(started)
        return result
    }

    /// Integer keys split into equal key ranges (index range scans fetch them); other keys are hashed into buckets.
    private func choosePartitioning(_ sides: Sides) async throws -> Partitioning {
        guard !source.key.isEmpty else { return .whole }
        let (sourceRows, targetRows) = try await sides.both { table, session in try session.estimatedRows(table) }
        let buckets = min(options.maxBuckets, max(1, max(sourceRows, targetRows) / options.rowsPerBucket))
        if source.integerKey != nil, target.integerKey != nil {
            let (a, b) = try await sides.both { table, session in try session.keyBounds(table) }
            let bounds = [a, b].compactMap { $0 }
            guard let low = bounds.map(\.min).min(), let high = bounds.map(\.max).max() else { return .keyRanges(lower: 0, width: 1) }
            let (span, overflow) = high.subtractingReportingOverflow(low)
            if !overflow, span < Int64.max / 2 {
                return .keyRanges(lower: low, width: max(1, (span + 1 + buckets - 1) / buckets))
            }
        }
        return .keyHash(count: buckets)
    }

    /// Splits one bucket that is too large to fetch into finer buckets covering the same rows.
    func refine(_ partitioning: Partitioning, bucket: Int64, size: Int64) -> (Partitioning, [Int64])? {
        let factor = min(4096, max(2, size / options.rowsPerBucket))
        switch partitioning {
        case .whole: return nil
        case let .keyRanges(_, width):
            guard width > 1, let range = partitioning.range(of: bucket) else { return nil }
            let finer = max(1, (width + factor - 1) / factor)
            return (.keyRanges(lower: range.lower, width: finer), Array(0..<((width + finer - 1) / finer)))
        case let .keyHash(count):
            let (finer, overflow) = count.multipliedReportingOverflow(by: factor)
            guard !overflow, finer <= Int64(UInt32.max) else { return nil }
            return (.keyHash(count: finer), (0..<factor).map { bucket + count * $0 })
        }
    }

    /// Compares the differing rows again once the changes committed so far have been applied, until
    /// none remain or the rounds run out. A row whose source value changed between the last two rounds
    /// is still changing faster than the comparison can follow: it is suspended (DMS "Suspended records"),
    /// not reported as a mismatch.
    private func recheck(_ found: DifferenceCollector, _ settle: @escaping @Sendable (Date) async throws -> Void,
                         _ sides: Sides) async throws -> (DifferenceCollector, suspended: Set<[String?]>) {
        var collector = found
        var previous: [[String?]: CanonicalRow]?
        var suspended: Set<[String?]> = []
        for _ in 0..<options.recheckRounds where collector.count > 0 {
            try await settle(Date())
            var again = DifferenceCollector(source: source, target: target, limit: options.failureMaxCount)
            var seen: [[String?]: CanonicalRow] = [:]
            // A run longer than one fetch stays as found: memory is bounded by PartitionSize, not by a gap's length.
            let (long, short) = collector.candidates.reduce(into: ([RowDifference](), [RowDifference]())) { split, difference in
                if difference.rows > options.fetchRows { split.0.append(difference) } else { split.1.append(difference) }
            }
            let keys = short.flatMap(\.keys)
            for start in stride(from: 0, to: keys.count, by: Int(options.fetchRows)) {
                let slice = Array(keys[start..<min(start + Int(options.fetchRows), keys.count)])
                let (sourceRows, targetRows) = try await sides.both { table, session in try session.rows(table, keys: slice) }
                for row in sourceRows { seen[source.key.map { row[$0] }] = row }
                again.compare(sourceRows, targetRows)
            }
            // Differences beyond those kept were not fetched again; they still count.
            again.carry(collector)
            long.forEach { again.keep($0) }
            if let previous {
                suspended = Set(again.candidates.filter { $0.lastKey == nil }.map(\.key).filter { seen[$0] != previous[$0] })
            }
            previous = seen
            collector = again
        }
        return (collector, suspended)
    }

    /// Fetches the rows of `buckets` from both sides and records how they differ; with `below`, only rows
    /// whose integer key is under it.
    private func compareRows(_ partitioning: Partitioning, _ buckets: [Int64], below: Int64?, _ sides: Sides,
                             _ collector: inout DifferenceCollector) async throws {
        var (sourceRows, targetRows) = try await sides.both { table, session in try session.rows(table, partitioning, buckets: buckets) }
        if let below, let sourceKey = source.key.first, let targetKey = target.key.first {
            sourceRows.removeAll { row in row[sourceKey].flatMap { Int64($0) }.map { $0 >= below } ?? false }
            targetRows.removeAll { row in row[targetKey].flatMap { Int64($0) }.map { $0 >= below } ?? false }
        }
        collector.compare(sourceRows, targetRows)
    }
}

/// The two sides of a validation, run at the same time.
struct Sides: Sendable {
    let source: ChecksumTable
    let target: ChecksumTable
    let sourceSession: any ChecksumSession
    let targetSession: any ChecksumSession

    /// Runs `work` on both sides at once, each on a thread of its own.
    func both<T: Sendable>(_ work: @escaping @Sendable (ChecksumTable, any ChecksumSession) throws -> T) async throws -> (T, T) {
        async let a = BlockingWork.run("ferry-validate-source") { [source, sourceSession] in try work(source, sourceSession) }
        async let b = BlockingWork.run("ferry-validate-target") { [target, targetSession] in try work(target, targetSession) }
        return try await (a, b)
    }
}
