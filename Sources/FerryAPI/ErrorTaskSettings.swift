import FerryEngine

/// The `ErrorBehavior` settings Ferry acts on: what a table error does to the task.
struct ErrorTaskSettings {
    /// How many failed tables stop the task: 1 under `TableErrorPolicy` STOP_TASK, `TableErrorEscalationCount`
    /// when `TableErrorEscalationPolicy` is STOP_TASK and the count is above 0; nil lets the other tables go on.
    var tableErrorLimit: Int?

    static let honoured: Set<String> = [
        "ErrorBehavior.TableErrorPolicy", "ErrorBehavior.TableErrorEscalationPolicy", "ErrorBehavior.TableErrorEscalationCount",
    ]

    init(_ effective: [String: Any]) throws {
        let section = SettingsSection(effective, "ErrorBehavior")
        let policy = try section.choice("TableErrorPolicy", of: ["SUSPEND_TABLE", "STOP_TASK"])
        let escalation = try section.choice("TableErrorEscalationPolicy", of: ["STOP_TASK"])
        let count = try section.integer("TableErrorEscalationCount", in: 0...1_000_000)
        if policy == "STOP_TASK" {
            tableErrorLimit = 1
        } else if escalation == "STOP_TASK", count > 0 {
            tableErrorLimit = count
        }
    }

    /// Sets these settings on a full load's options (a replication takes them from there).
    func apply(to load: inout FullLoadOptions) {
        load.tableErrorLimit = tableErrorLimit
    }
}
