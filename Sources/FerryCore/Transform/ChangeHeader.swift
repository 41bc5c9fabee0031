import Foundation

/// What DMS's header variables (`$AR_H_OPERATION`, `$AR_H_COMMIT_TIMESTAMP`, …) read for one row: the
/// operation that produced it, when its transaction committed, and where it sits in the change stream.
public struct ChangeHeader: Sendable, Equatable {
    /// `INSERT`, `UPDATE` or `DELETE`; rows of the full load are `INSERT`s.
    public var operation: String
    /// UTC text with microseconds (`2024-05-01 12:00:00.250000`).
    public var commitTimestamp: String
    /// The change's position in the source's log; empty during the full load.
    public var streamPosition: String

    public init(operation: String, commitTime: Date, streamPosition: String) {
        self.operation = operation
        self.commitTimestamp = TemporalText.utcText(of: commitTime)
        self.streamPosition = streamPosition
    }

    /// The header of rows copied by the full load at `time`.
    public static func fullLoad(at time: Date = Date()) -> ChangeHeader {
        ChangeHeader(operation: "INSERT", commitTime: time, streamPosition: "")
    }

    /// The variables a header provides, by name.
    public static let variables = ["AR_H_OPERATION", "AR_H_TIMESTAMP", "AR_H_COMMIT_TIMESTAMP", "AR_H_STREAM_POSITION"]

    /// The value of one of `variables`.
    func value(of variable: String) -> String {
        switch variable {
        case "AR_H_OPERATION": return operation
        case "AR_H_STREAM_POSITION": return streamPosition
        default: return commitTimestamp
        }
    }
}
