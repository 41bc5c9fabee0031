import Foundation
import Logging

/// The task logs of a server: one ``TaskLog`` per task, in `<data>/task-logs/<task identifier>/`.
public final class TaskLogs: @unchecked Sendable {
    public let directory: URL
    private let lock = NSLock()
    private var logs: [String: TaskLog] = [:]

    public init(dataDirectory: URL) {
        directory = dataDirectory.appendingPathComponent("task-logs")
    }

    /// The task's log (task identifiers are letters, digits and hyphens, so each is a plain folder name).
    public func log(for task: String) -> TaskLog {
        lock.withLock {
            if let log = logs[task] { return log }
            let log = TaskLog(folder: directory.appendingPathComponent(task))
            logs[task] = log
            return log
        }
    }

    /// A logger for one part of a task's run: what it logs goes to the process's own handler and to the task's log.
    public func logger(for task: String, component: String, base: Logger) -> Logger {
        let log = log(for: task)
        // Each handler keeps its level: the task's log has `info` and up (more when the server logs more),
        // whatever the server prints.
        var handler = TaskLogHandler(log: log, component: component)
        handler.logLevel = min(base.logLevel, .info)
        return Logger(label: component) { _ in MultiplexLogHandler([base.handler, handler]) }
    }

    public func remove(task: String) {
        lock.withLock { logs.removeValue(forKey: task) ?? TaskLog(folder: directory.appendingPathComponent(task)) }.remove()
    }
}
