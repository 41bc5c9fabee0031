/// The outcome of one premigration check, as DMS names its individual assessments' statuses.
public enum AssessmentStatus: String, Sendable, Codable, Comparable {
    case passed, warning, failed, error

    private var rank: Int { [.passed: 0, .warning: 1, .failed: 2, .error: 3][self]! }
    public static func < (a: Self, b: Self) -> Bool { a.rank < b.rank }
}

/// What a failed check stands in the way of.
public enum AssessmentPhase: String, Sendable, Codable {
    case fullLoad = "full load"
    case cdc
    case validation
    case cutover
    case rollback

    /// Whether a task that only loads (DMS's `full-load`) meets this phase.
    public var concernsFullLoad: Bool { self == .fullLoad || self == .validation }
}

/// One premigration check and what it found: DMS's individual assessment name where DMS has one
/// (`postgres-check-wallevel`), Ferry's own (`ferry-sqlite-…`) elsewhere.
public struct AssessmentFinding: Sendable, Codable, Equatable {
    public var name: String
    public var status: AssessmentStatus
    /// What a failure blocks.
    public var phase: AssessmentPhase
    /// The tables, settings or sessions concerned.
    public var objects: [String]
    /// What was found, in a sentence.
    public var message: String
    /// How to fix it: the SQL or the setting; empty when it passed.
    public var fix: String

    public init(_ name: String, _ status: AssessmentStatus, phase: AssessmentPhase, objects: [String] = [], message: String, fix: String = "") {
        self.name = name
        self.status = status
        self.phase = phase
        self.objects = objects
        self.message = message
        self.fix = fix
    }

    /// The outcome of `check`: passed when `problems` is empty and otherwise `status`, naming them.
    public static func check(_ check: AssessmentCheck, problems: [String], failing status: AssessmentStatus = .failed,
                             passed: String, failed: String, fix: String) -> AssessmentFinding {
        problems.isEmpty ? AssessmentFinding(check.name, .passed, phase: check.phase, message: passed)
            : AssessmentFinding(check.name, status, phase: check.phase, objects: problems, message: failed, fix: fix)
    }
}

/// A premigration check as it is listed before it runs (DescribeApplicableIndividualAssessments, a run's
/// IncludeOnly and Exclude): its name and what a failure blocks.
public struct AssessmentCheck: Sendable, Hashable {
    public let name: String
    public let phase: AssessmentPhase

    public init(_ name: String, _ phase: AssessmentPhase) {
        self.name = name
        self.phase = phase
    }
}

/// Which side of a migration a database is on, for the checks it answers.
public enum AssessmentRole: Sendable {
    /// Read from: the full load, change capture and the cutover's freeze.
    case source
    /// Written to, and the source of the reverse stream after a cutover (rollback).
    case target
}
