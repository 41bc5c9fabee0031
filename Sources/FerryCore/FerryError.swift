/// An error Ferry reports to a person: what kind of failure and a message that names what and where.
public struct FerryError: Error, Sendable, CustomStringConvertible, Equatable {
    public enum Kind: String, Sendable {
        /// A URL, flag, mapping or setting is wrong.
        case invalidParameter
        /// The server could not be reached, refused the login or lacks the database.
        case connectionFailed
        /// A table, schema or column that should exist does not.
        case notFound
        /// A source type Ferry cannot carry to this target.
        case unsupportedType
        /// A value the target cannot hold.
        case dataError
        /// An existing target table does not match what is loaded into it.
        case schemaMismatch
        /// Any other error the database reported.
        case database
        /// The work was stopped before it finished.
        case cancelled
        /// A later run of the task took it over on the target (a higher epoch): this run's writes are refused.
        case fenced
        /// The source no longer holds the task's capture (a dropped slot, a promoted replica without it), so
        /// the changes after the target's position cannot be read: only a reload makes the target whole.
        case captureLost
    }

    public var kind: Kind
    public var message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }

    public static func invalidParameter(_ field: String, _ reason: String) -> FerryError {
        FerryError(.invalidParameter, "\(field): \(reason)")
    }

    public static let cancelled = FerryError(.cancelled, "cancelled")

    /// A run of `task` whose claim (`epoch`) a later run has raised on the target.
    public static func fenced(task: String, epoch: Int64) -> FerryError {
        FerryError(.fenced, "task \(task) was taken over on the target by a later run (this run's epoch \(epoch) is no longer the target's): this run stopped and wrote nothing more")
    }
}
