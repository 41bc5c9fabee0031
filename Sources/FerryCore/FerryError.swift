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
}
