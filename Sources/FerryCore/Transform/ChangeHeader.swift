import Foundation

/// What DMS's header variables (`$AR_H_OPERATION`, `$AR_H_COMMIT_TIMESTAMP`, …) read for one row: the
/// operation that produced it, when its transaction committed, and where it sits in the change stream.
public struct ChangeHeader: Sendable, Equatable {
    /// `INSERT`, `UPDATE` or `DELETE`; rows of the full load are `INSERT`s.
    public var operation: String
    public var commitTime: Date
    /// UTC text with microseconds (`2024-05-01 12:00:00.250000`), once per header: a full-load chunk's rows share one.
    public var commitTimestamp: String
    /// The change's position in the source's log; empty during the full load.
    public var streamPosition: String
    /// The change's task-wide number; nil during the full load, which has no change sequence.
    public var changeNumber: Int?

    public init(operation: String, commitTime: Date, streamPosition: String, changeNumber: Int? = nil) {
        self.operation = operation
        self.commitTime = commitTime
        self.commitTimestamp = TemporalText.utcText(of: commitTime)
        self.streamPosition = streamPosition
        self.changeNumber = changeNumber
    }

    /// DMS's 35-digit change sequence; empty during the full load. Worked out only when an expression reads it.
    public var changeSequence: String {
        changeNumber.map { Self.changeSequence(commitTime: commitTime, changeNumber: $0) } ?? ""
    }

    /// The header of rows copied by the full load at `time`.
    public static func fullLoad(at time: Date = Date()) -> ChangeHeader {
        ChangeHeader(operation: "INSERT", commitTime: time, streamPosition: "")
    }

    /// DMS's `$AR_H_CHANGE_SEQ` form: the commit time to the hundredth of a second (`YYYYMMDDHHmmSShh`, UTC)
    /// and the change's task-wide number in 19 digits. It grows with the commit time, then with the stream's order.
    public static func changeSequence(commitTime: Date, changeNumber: Int) -> String {
        String(TemporalText.utcText(of: commitTime).filter(\.isNumber).prefix(16)) + String(format: "%019d", changeNumber)
    }

    /// The variables a header provides, by name.
    public static let variables = ["AR_H_OPERATION", "AR_H_TIMESTAMP", "AR_H_COMMIT_TIMESTAMP", "AR_H_STREAM_POSITION", "AR_H_CHANGE_SEQ"]

    /// The value of one of `variables`.
    func value(of variable: String) -> String {
        switch variable {
        case "AR_H_OPERATION": return operation
        case "AR_H_STREAM_POSITION": return streamPosition
        case "AR_H_CHANGE_SEQ": return changeSequence
        default: return commitTimestamp
        }
    }
}
