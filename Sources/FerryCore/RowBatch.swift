/// Rows moving from a snapshot reader to a bulk loader.
public enum RowBatch: Sendable {
    /// Decoded rows; each row has one value per planned column, in plan order.
    case rows([[Value]])
    /// Rows already encoded in a format both engines speak (see ``NativeEncoding``), passed through
    /// without decoding each value.
    case encoded(bytes: [UInt8], rowCount: Int)

    public var rowCount: Int {
        switch self {
        case let .rows(rows): return rows.count
        case let .encoded(_, count): return count
        }
    }
}

/// The name of an encoding a source can produce and a target can consume as-is
/// (for example PostgreSQL's COPY text format between two PostgreSQL servers).
public struct NativeEncoding: Hashable, Sendable {
    public var name: String
    public init(_ name: String) { self.name = name }
}

/// How a reader must hand rows over.
public enum BatchEncoding: Hashable, Sendable {
    case values
    case native(NativeEncoding)
}
