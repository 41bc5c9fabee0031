import FerryCore

/// The `ErrorBehavior` settings Ferry acts on: what a table error does to the task, and what a row the
/// target refuses does. DMS's default DataErrorPolicy (LOG_ERROR) would leave refused rows out, so Ferry
/// applies a data-error policy only when the task sets `DataErrorPolicy` itself; otherwise a refused row
/// fails its table (SUSPEND_TABLE).
public struct ErrorTaskSettings: Sendable {
    /// How many failed tables stop the task: 1 under `TableErrorPolicy` STOP_TASK, `TableErrorEscalationCount`
    /// when `TableErrorEscalationPolicy` is STOP_TASK and the count is above 0; nil lets the other tables go on.
    public var tableErrorLimit: Int?
    /// `DataErrorPolicy` with `DataErrorEscalationPolicy` and `DataErrorEscalationCount`.
    public var dataErrors = DataErrorPolicy.suspendTable

    static let honoured: Set<String> = [
        "ErrorBehavior.TableErrorPolicy", "ErrorBehavior.TableErrorEscalationPolicy", "ErrorBehavior.TableErrorEscalationCount",
        "ErrorBehavior.DataErrorPolicy", "ErrorBehavior.DataErrorEscalationPolicy", "ErrorBehavior.DataErrorEscalationCount",
    ]

    init(_ document: SettingsDocument) throws {
        let section = SettingsSection("ErrorBehavior", of: document)
        let dataPolicy = try section.choice("DataErrorPolicy", of: ["LOG_ERROR", "IGNORE_RECORD", "SUSPEND_TABLE", "STOP_TASK"])
        let dataEscalation = try section.choice("DataErrorEscalationPolicy", of: ["SUSPEND_TABLE", "STOP_TASK"]).value
        let dataCount = try section.integer("DataErrorEscalationCount", in: 0...1_000_000_000).value
        if let policy = dataPolicy.userValue {
            let action: DataErrorPolicy.Action = switch policy {
            case "STOP_TASK": .stopTask
            case "SUSPEND_TABLE": .suspendTable
            default: .skipRow
            }
            dataErrors = DataErrorPolicy(action: action, recordsSkippedRows: policy == "LOG_ERROR", escalationCount: dataCount,
                                         escalation: dataEscalation == "STOP_TASK" ? .stopTask : .suspendTable)
        }
        let policy = try section.choice("TableErrorPolicy", of: ["SUSPEND_TABLE", "STOP_TASK"]).value
        let escalation = try section.choice("TableErrorEscalationPolicy", of: ["STOP_TASK"]).value
        let count = try section.integer("TableErrorEscalationCount", in: 0...1_000_000).value
        if policy == "STOP_TASK" {
            tableErrorLimit = 1
        } else if escalation == "STOP_TASK", count > 0 {
            tableErrorLimit = count
        }
    }

    /// Sets these settings on a full load's options (a replication takes them from there).
    func apply(to load: inout FullLoadOptions) {
        load.tableErrorLimit = tableErrorLimit
        load.dataErrors = dataErrors
    }
}
