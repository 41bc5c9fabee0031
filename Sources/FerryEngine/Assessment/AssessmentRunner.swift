import FerryCore
import Foundation

/// A premigration assessment: the checks every engine pair shares (keys, types, rules, the way back),
/// then the source's and the target's own (``SourceConnector/assess(_:as:)``). Changes nothing.
public struct AssessmentRunner: Sendable {
    public let source: any SourceConnector
    public let target: any TargetConnector
    /// The target read as a source: its own checks (rollback readiness).
    public let targetAsSource: any SourceConnector
    public let load: FullLoadOptions

    public init(source: any SourceConnector, target: any TargetConnector, targetAsSource: any SourceConnector, load: FullLoadOptions) {
        self.source = source
        self.target = target
        self.targetAsSource = targetAsSource
        self.load = load
    }

    /// Every check a run between these engines makes, in order: the shared ones, the source's, the
    /// target's; for a task that only loads, those that concern the load. Known without connecting.
    public static func checks(source: any SourceConnector, targetAsSource: any SourceConnector, fullLoadOnly: Bool) -> [AssessmentCheck] {
        (SharedChecks.all + source.assessmentChecks(as: .source) + targetAsSource.assessmentChecks(as: .target))
            .filter { !fullLoadOnly || $0.phase.concernsFullLoad }
    }

    /// Every finding, worst first (then by name); with `only`, just those checks' findings.
    public func run(only: Set<String>? = nil) async throws -> [AssessmentFinding] {
        try await BlockingWork.run("ferry-assess") { [self] in
            let schemas = try source.discoverTables(load.mappings)
            let unmatched = load.mappings.unmatchedRules(in: schemas)
            var findings = [AssessmentFinding.check(
                SharedChecks.selectionRules, problems: unmatched.map(\.description),
                failing: unmatched.contains(where: \.literal) ? .failed : .warning,
                passed: "every selection rule matches a table", failed: "rules that match no source table",
                fix: "correct the rule's schema-name or table-name")]
            // A rule naming a missing table stops planning; the engines' checks still run on the tables found.
            let plans = unmatched.contains(where: \.literal) ? []
                : try FullLoadRunner(source: source, target: target, options: load, status: FullLoadStatus()).discoverPlans()
            findings += shared(plans)
            findings += try source.assess(plans.isEmpty ? schemas : plans.map(\.source), as: .source)
            // The target's tables need not exist yet, nor (SQLite) its file.
            let written = (try? targetAsSource.discover(.exactly(plans.map { target.normalize($0.written.target) }))) ?? []
            do {
                findings += try targetAsSource.assess(written, as: .target)
            } catch {
                // Each of the target's checks could not run: DMS's `error`.
                findings += targetAsSource.assessmentChecks(as: .target).map {
                    AssessmentFinding($0.name, .error, phase: $0.phase, message: "the target cannot be checked: \(error)",
                                      fix: "check the target URL, the server and the credentials")
                }
            }
            return findings.filter { only?.contains($0.name) ?? true }.sorted { ($0.status, $1.name) > ($1.status, $0.name) }
        }
    }

    /// The checks that need no engine's help.
    func shared(_ plans: [TablePlan]) -> [AssessmentFinding] {
        let keyless = plans.filter(\.keyNames.isEmpty).map(\.source.id.description)
        let refused = plans.compactMap { plan -> String? in
            do { try target.check(plan.written) } catch { return "\(error)" }
            return nil
        }
        return [
            .check(SharedChecks.primaryKeys, problems: keyless,
                   passed: "every table has a primary key", failed: "changes are applied, and rows validated, by key",
                   fix: "add a primary key, or a define-primary-key rule in the table mappings"),
            .check(SharedChecks.dataTypes, problems: refused,
                   passed: "the target can hold every column's type", failed: "columns whose type the target cannot hold",
                   fix: "a change-data-type rule, or leave the column out (remove-column)"),
            Self.reverseReplication(plans, failing: .warning),
        ]
    }

    /// Whether changes can flow back after a cutover: a warning before the migration, a refusal at the
    /// cutover that asks for the way back.
    static func reverseReplication(_ plans: [TablePlan], failing status: AssessmentStatus) -> AssessmentFinding {
        .check(SharedChecks.reverseReplication, problems: ReverseMappings.obstacles(plans), failing: status,
               passed: "changes can flow back after a cutover", failed: "the reverse stream cannot restore these tables",
               fix: "cut over with --no-reverse, or drop the transformations that rewrite rows")
    }
}

/// The checks every engine pair shares, under DMS's names where DMS has them.
enum SharedChecks {
    static let selectionRules = AssessmentCheck("all-check-source-selection-rules", .fullLoad)
    static let primaryKeys = AssessmentCheck("table-with-no-primary-key-or-unique-constraint", .cdc)
    static let dataTypes = AssessmentCheck("unsupported-data-types-in-source", .fullLoad)
    static let reverseReplication = AssessmentCheck("ferry-reverse-replication", .rollback)
    static let all = [selectionRules, primaryKeys, dataTypes, reverseReplication]
}
