/// What happens to a row the target refuses or a transformation cannot compute (DMS
/// `ErrorBehavior.DataErrorPolicy`, `DataErrorEscalationPolicy` and `DataErrorEscalationCount`).
public struct DataErrorPolicy: Sendable, Equatable {
    public enum Action: String, Sendable {
        /// The table fails; the other tables go on (DMS SUSPEND_TABLE). Ferry's default.
        case suspendTable
        /// The table fails and the task stops (DMS STOP_TASK).
        case stopTask
        /// The row is left out and counted; the table goes on (DMS LOG_ERROR and IGNORE_RECORD).
        case skipRow
    }

    public var action: Action
    /// Skipped rows are also written to the target's `awsdms_apply_exceptions` table (LOG_ERROR);
    /// otherwise they are only counted (IGNORE_RECORD).
    public var recordsSkippedRows: Bool
    /// After this many skipped rows in one table, `escalation` applies instead; 0 never escalates.
    public var escalationCount: Int
    /// `suspendTable` or `stopTask`.
    public var escalation: Action

    public init(action: Action, recordsSkippedRows: Bool = true, escalationCount: Int = 0, escalation: Action = .suspendTable) {
        self.action = action
        self.recordsSkippedRows = recordsSkippedRows
        self.escalationCount = escalationCount
        self.escalation = escalation
    }

    /// A refused row fails its table.
    public static let suspendTable = DataErrorPolicy(action: .suspendTable)

    /// The action for a table that has skipped `skipped` rows and meets one more bad row.
    public func action(afterSkipping skipped: Int) -> Action {
        guard action == .skipRow else { return action }
        return escalationCount > 0 && skipped + 1 >= escalationCount ? escalation : .skipRow
    }
}
