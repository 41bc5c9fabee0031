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

extension NativeEncoding {
    /// Rows as the text MySQL's `LOAD DATA` reads by default: a tab between fields, a newline after each row,
    /// `\N` for NULL, backslash escapes; each value already in the text its MySQL column takes, as Ferry's
    /// value path would write it. A PostgreSQL source writes it in its COPY (PostgreSQL 15 to MariaDB
    /// without decoding a value in Ferry).
    public static let mysqlLoadDataText = NativeEncoding("mysql-load-data-text")
}
