import FerryCatalog
import FerryTelemetry
import Foundation
import Logging

/// `GetReplicationTaskLogEvents` (Ferry's): a task's log lines after a sequence number, filtered by level
/// and text; `ferry logs` follows a task with it.
struct GetTaskLogEventsMessage: DMSShape {
    static let requiredMembers = ["ReplicationTaskArn"]
    var ReplicationTaskArn: String?
    /// Lines after this one (0, the default, from the start).
    var AfterSequence: Int?
    /// trace, debug, info, notice, warning, error or critical (default info).
    var MinimumLevel: String?
    /// Only lines whose message or table holds this text (case-insensitive).
    var Filter: String?
    /// At most this many lines (1 to 10,000; default 1,000).
    var Limit: Int?
    /// Only among the last this many lines written (a tail; before the level and text filters). Overrides AfterSequence.
    var Tail: Int?
}

struct GetTaskLogEventsResponse: DMSShape {
    static let requiredMembers: [String] = []
    var Events: [TaskLogEvent]?
    /// The last line's sequence number: the next call's `AfterSequence`.
    var LastSequence: Int?
}

struct TaskLogEvent: DMSShape {
    static let requiredMembers: [String] = []
    var Sequence: Int?
    var Time: Date?
    var Level: String?
    var Component: String?
    var Message: String?
    var Table: String?
}

extension DMSService {
    /// DMS's operation: the size of each task's log on an instance.
    func describeInstanceTaskLogs(_ input: DescribeReplicationInstanceTaskLogsMessage) throws -> DescribeReplicationInstanceTaskLogsResponse {
        let instance = try instance(input.ReplicationInstanceArn)
        let page = try Page(marker: input.Marker, maxRecords: input.MaxRecords)
        let tasks = try catalog.list(.task, as: ReplicationTask.self).filter { $0.ReplicationInstanceArn == instance.ReplicationInstanceArn }
        let (items, marker) = page.slice(tasks.map { task in
            ReplicationInstanceTaskLog(ReplicationTaskName: task.ReplicationTaskIdentifier, ReplicationTaskArn: task.ReplicationTaskArn,
                                       ReplicationInstanceTaskLogSize: taskLogs.log(for: task.ReplicationTaskIdentifier!).diskBytes)
        })
        return DescribeReplicationInstanceTaskLogsResponse(ReplicationInstanceArn: instance.ReplicationInstanceArn,
                                                           ReplicationInstanceTaskLogs: items, Marker: marker)
    }

    func getTaskLogEvents(_ input: GetTaskLogEventsMessage) throws -> GetTaskLogEventsResponse {
        let task = try task(input.ReplicationTaskArn)
        let limit = input.Limit ?? 1000
        guard (1...10_000).contains(limit) else { throw DMSError.invalidParameter("Limit must be between 1 and 10000; got \(limit).") }
        let level = try input.MinimumLevel.map { name -> Logger.Level in
            guard let level = Logger.Level(rawValue: name.lowercased()) else {
                throw DMSError.invalidParameter("MinimumLevel must be one of trace, debug, info, notice, warning, error, critical; got '\(name)'.")
            }
            return level
        } ?? .info
        let log = taskLogs.log(for: task.ReplicationTaskIdentifier!)
        if let tail = input.Tail, tail < 1 { throw DMSError.invalidParameter("Tail must be at least 1; got \(tail).") }
        let after = input.Tail.map { max(0, log.lastSequence - $0) } ?? input.AfterSequence ?? 0
        let entries = log.entries(after: after, minimumLevel: level, filter: input.Filter, limit: limit)
        return GetTaskLogEventsResponse(Events: entries.map {
            TaskLogEvent(Sequence: $0.sequence, Time: $0.time, Level: $0.level, Component: $0.component, Message: $0.message, Table: $0.table)
        }, LastSequence: entries.last?.sequence ?? after)
    }
}
