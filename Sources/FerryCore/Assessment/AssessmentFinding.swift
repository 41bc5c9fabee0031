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

    /// A check that passed when `problems` is empty and otherwise has `status`, naming them.
    public static func check(_ name: String, phase: AssessmentPhase, problems: [String], failing status: AssessmentStatus = .failed,
                             passed: String, failed: String, fix: String) -> AssessmentFinding {
        problems.isEmpty ? AssessmentFinding(name, .passed, phase: phase, message: passed)
            : AssessmentFinding(name, status, phase: phase, objects: problems, message: failed, fix: fix)
    }
}

/// Which side of a migration a database is on, for the checks it answers.
public enum AssessmentRole: Sendable {
    /// Read from: the full load, change capture and the cutover's freeze.
    case source
    /// Written to, and the source of the reverse stream after a cutover (rollback).
    case target
}
