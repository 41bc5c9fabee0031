import FerryCore
import Foundation

/// The rows one table leaves out under `DataErrorPolicy` LOG_ERROR or IGNORE_RECORD: counts them, keeps
/// the LOG_ERROR records for `awsdms_apply_exceptions`, and escalates once the policy's count is reached.
struct SkippedRows {
    let policy: DataErrorPolicy
    let table: TableID
    private(set) var count = 0
    private(set) var records: [ApplyExceptionsTable.Record] = []

    init(policy: DataErrorPolicy, table: TableID) {
        self.policy = policy
        self.table = table
    }

    /// Leaves out one refused row (`row` describes it), or throws ``DataErrorEscalation`` when the policy
    /// says this row is one too many.
    mutating func skip(_ row: String, _ error: FerryError) throws {
        let action = policy.action(afterSkipping: count)
        guard action == .skipRow else {
            throw DataErrorEscalation(stopsTask: action == .stopTask, error: FerryError(.dataError,
                "\(table): \(count + 1) rows refused, which reaches ErrorBehavior.DataErrorEscalationCount \(policy.escalationCount); the last: \(error.message)"))
        }
        count += 1
        if policy.recordsSkippedRows { records.append(.init(table: table, row: row, error: error.message)) }
    }

    /// The records kept so far, which are then forgotten.
    mutating func takeRecords() -> [ApplyExceptionsTable.Record] {
        defer { records.removeAll() }
        return records
    }
}

/// A table's refused rows reached `DataErrorEscalationCount`: the table fails, and with `stopsTask` the task stops.
struct DataErrorEscalation: Error, CustomStringConvertible {
    var stopsTask: Bool
    var error: FerryError
    var description: String { error.message }
}
