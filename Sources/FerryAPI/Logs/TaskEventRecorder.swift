import FerryCatalog
import FerryEngine
import FerryTelemetry

/// Records a task's event twice over: published (the catalog, for DescribeEvents, and the subscriptions'
/// webhooks) and in the task's own log (a failure as a warning line).
struct TaskEventRecorder: Sendable {
    let publisher: EventPublisher
    let taskLogs: TaskLogs

    func record(_ identifier: String, _ message: String, _ categories: [String]) {
        publisher.publish(EventRecord(sourceIdentifier: identifier, sourceType: "replication-task", message: message, categories: categories))
        taskLogs.log(for: identifier).append(level: categories.contains("failure") ? .warning : .info, component: "ferry.tasks",
                                             message: message, table: nil)
    }

    /// A finished load pass's warnings, once: the load's own (a rule whose wildcard matched nothing) and
    /// each table's (LOB values cut, no key).
    func loadWarnings(_ identifier: String, _ warnings: [String], _ tables: [TableProgress]) {
        for warning in warnings + tables.flatMap(\.warnings) { record(identifier, "Warning: \(warning).", ["failure"]) }
    }
}
