import FerryCore
import Foundation
import Logging

/// Validates every table the mappings select: finds each table's target, compares them with a
/// ``TableValidator`` (several tables at once) and, when asked, repairs the differing rows.
public struct ValidationRunner: Sendable {
    public let source: any SourceConnector
    /// The target database read as a source: validation only reads it (and deletes rows when repairing).
    public let target: any SourceConnector
    /// The target as a writer, for repairs and for the target's table names.
    public let writer: any TargetConnector
    public let mappings: TableMappings
    public let options: ValidationOptions
    public let logger: Logger

    public init(source: any SourceConnector, target: any SourceConnector, writer: any TargetConnector,
                mappings: TableMappings, options: ValidationOptions, logger: Logger) {
        self.source = source
        self.target = target
        self.writer = writer
        self.mappings = mappings
        self.options = options
        self.logger = logger
    }

    /// Validates (and with `repair`, repairs then validates again) every selected table; `finished`
    /// is called as each table's result is known. Throws only when the source cannot be read at all.
    /// `only` limits the run to these source tables.
    public func run(repair: Bool = false, only: Set<TableID>? = nil,
                    finished: @escaping @Sendable (TableValidation) -> Void = { _ in }) async throws -> [TableValidation] {
        let pairs = try await BlockingWork.run("ferry-validate-discover") { [self] in try self.pairs() }
            .filter { only?.contains($0.source.id) ?? true }
        var results: [TableValidation] = []
        try await withThrowingTaskGroup(of: TableValidation.self) { group in
            var next = 0
            func startNext() {
                guard next < pairs.count else { return }
                let pair = pairs[next]
                next += 1
                group.addTask { await self.validate(pair, repair: repair) }
            }
            for _ in 0..<max(1, options.threadCount) { startNext() }
            while let result = try await group.next() {
                finished(result)
                results.append(result)
                startNext()
            }
        }
        let order = Dictionary(uniqueKeysWithValues: pairs.enumerated().map { ($1.source.id, $0) })
        return results.sorted { (order[$0.source] ?? 0) < (order[$1.source] ?? 0) }
    }

    /// One table to validate: the plan, both sides' checksum views, or why it cannot be validated.
    struct Pair: Sendable {
        var plan: TablePlan?
        var source: ChecksumTable
        var target: ChecksumTable?
        var problem: String?
    }

    func pairs() throws -> [Pair] {
        let schemas = try source.discoverTables(mappings)
        if let literal = mappings.unmatchedRules(in: schemas).first(where: \.literal) { throw literal.error }
        var plans: [TablePlan] = []
        var pairs: [Pair] = []
        for missing in mappings.explicitTables where !schemas.contains(where: { $0.id == missing }) {
            pairs.append(Pair(source: ChecksumTable(id: missing, columns: [], key: [], hashing: .canonical),
                              problem: "source table \(missing) does not exist"))
        }
        for schema in schemas {
            do {
                var plan = try mappings.plan(for: schema)
                plan.target = writer.normalize(plan.target)
                plans.append(plan)
            } catch {
                pairs.append(Pair(source: ChecksumTable(id: schema.id, columns: [], key: [], hashing: .canonical), problem: "\(error)"))
            }
        }
        let targets = Dictionary(try target.discover(.exactly(plans.map(\.target))).map { ($0.id, $0) }) { a, _ in a }
        for plan in plans {
            pairs.append(Self.pair(plan, target: targets[plan.target], sameEngine: source.engine == target.engine, skipLobs: options.skipLobColumns))
        }
        return pairs
    }

    /// Lines up the plan's unmasked columns on both sides; both sides hash natively only when the engines
    /// and every column's native type agree.
    static func pair(_ plan: TablePlan, target schema: TableSchema?, sameEngine: Bool, skipLobs: Bool = false) -> Pair {
        // Masked columns differ by design; computed columns have no source value to compare with.
        let compared = plan.columns.filter { column in
            column.masking == nil && !(skipLobs && LobLimit.isLob(column.source.type) && !plan.keyNames.contains(column.source.name))
        }
        let sourceColumns = compared.map(\.source)
        let key = plan.keyNames.compactMap { name in sourceColumns.firstIndex { $0.name == name } }
        let usableKey = key.count == plan.keyNames.count ? key : []
        var source = ChecksumTable(id: plan.source.id, columns: sourceColumns, key: usableKey, filters: plan.filters, hashing: .canonical)
        guard let schema else {
            return Pair(plan: plan, source: source, problem: "target table \(plan.target) does not exist")
        }
        var targetColumns: [Column] = []
        for column in compared {
            guard let match = schema.column(named: column.targetName) else {
                return Pair(plan: plan, source: source, problem: "target table \(plan.target) has no column '\(column.targetName)'")
            }
            targetColumns.append(match)
        }
        let native = sameEngine && zip(sourceColumns, targetColumns).allSatisfy { $0.nativeType == $1.nativeType }
        source.hashing = native ? .native : .canonical
        let target = ChecksumTable(id: schema.id, columns: targetColumns, key: usableKey, filters: softDeleteFilters(plan),
                                   hashing: source.hashing)
        return Pair(plan: plan, source: source, target: target)
    }

    /// A plan that flags deletes (`operation_indicator`) keeps deleted rows on the target, marked: they are
    /// not the source's, so the target's side leaves out rows whose flag holds the delete marker.
    static func softDeleteFilters(_ plan: TablePlan) -> [RowFilter] {
        guard plan.softDeletes, let transformer = try? RowTransformer(plan: plan),
              let deleted = try? transformer.apply([Value?](repeating: nil, count: plan.columns.count),
                                                   header: ChangeHeader(operation: "DELETE", commitTime: Date(), streamPosition: "")) else { return [] }
        let written = plan.written.columns
        return plan.computed.filter(\.flagsOperations).compactMap { column in
            guard let index = written.firstIndex(where: { $0.targetName == column.name }), index < deleted.count,
                  let marker = deleted[index]?.textForm else { return nil }
            return RowFilter(column: column.name, conditions: [.isNull, .notEqual(marker)])
        }
    }

    private func validate(_ pair: Pair, repair: Bool) async -> TableValidation {
        let targetID = pair.target?.id ?? pair.plan?.target ?? pair.source.id
        guard let plan = pair.plan, let targetTable = pair.target, pair.problem == nil else {
            var result = TableValidation(source: pair.source.id, target: targetID, state: .tableError)
            result.error = pair.problem
            return result
        }
        let validator = TableValidator(source: pair.source, target: targetTable, options: options)
        do {
            let sessions = try await BlockingWork.run("ferry-validate-open") { [source, target] in
                (try source.openChecksumSession(), try target.openChecksumSession())
            }
            defer { sessions.0.close(); sessions.1.close() }
            var result = try await validator.run(source: sessions.0, target: sessions.1)
            guard repair, result.state == .mismatchedRecords else { return result }
            let repairer = RowRepair(plan: plan, source: source, writer: writer, sourceTable: pair.source, targetTable: targetTable)
            var repaired: Int64 = 0
            // Differences beyond FailureMaxCount are not held, so repair goes in rounds until none remain.
            for _ in 0..<Self.repairRounds where result.state == .mismatchedRecords && !result.differences.isEmpty {
                repaired += try await repairer.repair(result.differences, sourceSession: sessions.0, targetSession: sessions.1)
                result = try await validator.run(source: sessions.0, target: sessions.1)
            }
            result.repairedRows = repaired
            return result
        } catch {
            logger.warning("validating \(pair.source.id) failed: \(error)", metadata: ["table": "\(pair.source.id)"])
            var result = TableValidation(source: pair.source.id, target: targetID, state: .tableError)
            result.error = "\(error)"
            return result
        }
    }

    static let repairRounds = 5
}
