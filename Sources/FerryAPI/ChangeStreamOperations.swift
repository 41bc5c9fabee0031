import FerryEngine
import Foundation

/// `DescribeChangeStream` (Ferry's): where a running task's change stream is: the position applied last,
/// the lag, the backlog and the log the source keeps for it. The console's task page shows it.
struct DescribeChangeStreamMessage: DMSShape {
    static let requiredMembers = ["ReplicationTaskArn"]
    var ReplicationTaskArn: String?
}

struct DescribeChangeStreamResponse: DMSShape {
    static let requiredMembers: [String] = []
    var ReplicationTaskArn: String?
    /// `starting`, `full load`, `change data capture` or `stopped`; `not running` when the task does not stream in this server.
    var Phase: String?
    /// The source position applied last, as CdcStartPosition takes it.
    var AppliedPosition: String?
    var LatencySourceSeconds: Double?
    var LatencyTargetSeconds: Double?
    /// A marker's trip from the source to the target (Ferry's own lag).
    var MarkerRoundTripSeconds: Double?
    var IncomingChanges: Int?
    var ChangesApplied: Int?
    var TransactionsApplied: Int?
    var ChangesPerSecond: Double?
    /// WAL or binlog the source keeps for the task, when last measured.
    var RetainedLogBytes: Int?
    var RetainedLogWarning: String?
    var Reconnects: Int?
    /// Tables whose changes are no longer applied, as `schema.table: reason`.
    var SuspendedTables: [String]?
    /// The server the stream reads, as it told on the last connect (system identifier and timeline, or server_id and GTID position).
    var Source: String?
}

extension DMSService {
    func describeChangeStream(_ input: DescribeChangeStreamMessage) async throws -> DescribeChangeStreamResponse {
        let task = try task(input.ReplicationTaskArn)
        guard let stream = await supervisor.replicationStatus(task.ReplicationTaskArn!) else {
            let elsewhere = otherNodeRunning(task.ReplicationTaskArn!)
            return DescribeChangeStreamResponse(ReplicationTaskArn: task.ReplicationTaskArn, Phase: elsewhere.map { "running on \($0): ask it" } ?? "not running")
        }
        return DescribeChangeStreamResponse(
            ReplicationTaskArn: task.ReplicationTaskArn, Phase: stream.phase.rawValue, AppliedPosition: stream.position,
            LatencySourceSeconds: stream.latencySource, LatencyTargetSeconds: stream.latencyTarget, MarkerRoundTripSeconds: stream.markerLag,
            IncomingChanges: stream.incomingChanges, ChangesApplied: stream.changesApplied, TransactionsApplied: stream.transactionsApplied,
            ChangesPerSecond: stream.changesPerSecond, RetainedLogBytes: stream.retainedBytes.map(Int.init), RetainedLogWarning: stream.retainedWarning,
            Reconnects: stream.reconnects, SuspendedTables: stream.suspended.map { "\($0.key): \($0.value)" }.sorted(),
            Source: stream.source?.description)
    }
}
