import FerryEngine
import Foundation

/// `StartCutover`: moves a running CDC task's application to its target; a cutover of a task's reverse
/// task is the rollback.
struct StartCutoverMessage: DMSShape {
    static let requiredMembers = ["ReplicationTaskArn"]
    var ReplicationTaskArn: String?
    /// Refuse when a marker takes longer than this to reach the target (default 30).
    var MaxLagSeconds: Double?
    /// The longest write pause allowed (default 30); past it everything is undone.
    var TimeoutSeconds: Double?
    /// Start replication back to the source (default true).
    var ReverseReplication: Bool?
    /// Check the guardrails only; change nothing.
    var DryRun: Bool?
    /// `full` (default) or `none`.
    var Validate: String?
}

struct StartCutoverResponse: DMSShape {
    static let requiredMembers: [String] = []
    var Cutover: CutoverDescription?
}

struct DescribeCutoversMessage: DMSShape {
    static let requiredMembers: [String] = []
    /// Only this task's cutover; every task's most recent one without it.
    var ReplicationTaskArn: String?
}

struct DescribeCutoversResponse: DMSShape {
    static let requiredMembers: [String] = []
    var Cutovers: [CutoverDescription]?
}

struct DescribeCutoverReadinessMessage: DMSShape {
    static let requiredMembers = ["ReplicationTaskArn"]
    var ReplicationTaskArn: String?
    /// The lag a cutover would allow (default 30).
    var MaxLagSeconds: Double?
}

/// Whether the task could be cut over now (``CutoverReadiness``).
struct DescribeCutoverReadinessResponse: DMSShape {
    static let requiredMembers: [String] = []
    var ReplicationTaskArn: String?
    var Ready: Bool?
    var Reasons: [String]?
    var Notes: [String]?
    var LagSeconds: Double?
}

/// `CompleteCutover`: the migration is over; stops the reverse task and removes what Ferry left on both databases.
struct CompleteCutoverMessage: DMSShape {
    static let requiredMembers = ["ReplicationTaskArn"]
    /// The forward task that was cut over.
    var ReplicationTaskArn: String?
}

struct CompleteCutoverResponse: DMSShape {
    static let requiredMembers: [String] = []
    var Removed: [String]?
}

/// A cutover as the API shows it (DescribeCutovers) and `ferry cutover --json` prints it.
public struct CutoverDescription: Codable, Sendable, Equatable {
    public var CutoverId: String
    public var ReplicationTaskArn: String
    public var ReverseReplicationTaskIdentifier: String
    /// The step in progress, `completed` or `aborted`.
    public var Status: String
    public var DryRun: Bool
    public var StartDate: Date
    public var FailedStep: String?
    public var Reasons: [String]
    public var Warnings: [String]
    public var LagSeconds: Double?
    public var WritePauseSeconds: Double?
    public var FreezeMethod: String?
    public var SyncPosition: String?
    public var StopPosition: String?
    public var ReversePosition: String?
    public var ReverseReplicationRunning: Bool
    public var Tables: [String]
    public var PlannedSteps: [String]
    public var StepSeconds: [String: Double]
    public var Counters: [String: [String: Int64]]

    public init(_ record: CutoverRecord, taskArn: String) {
        CutoverId = record.id
        ReplicationTaskArn = taskArn
        ReverseReplicationTaskIdentifier = record.reverseTask
        Status = record.status
        DryRun = record.machine.dryRun
        StartDate = record.startedAt
        FailedStep = record.machine.failedStep?.rawValue
        Reasons = record.machine.reasons
        Warnings = record.warnings
        LagSeconds = record.lagSeconds
        WritePauseSeconds = record.writePauseSeconds
        FreezeMethod = record.freezeMethod
        SyncPosition = record.syncPosition
        StopPosition = record.stopPosition
        ReversePosition = record.machine.reversePosition
        ReverseReplicationRunning = record.machine.reverseRunning
        Tables = record.tables
        PlannedSteps = record.machine.plannedSteps.map(\.rawValue)
        StepSeconds = record.stepSeconds
        Counters = record.counters
    }
}
