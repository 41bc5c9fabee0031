import Foundation

/// What differs between the two stores' SQL. Everything else the catalog writes once: `?` arguments,
/// `INSERT … ON CONFLICT … DO UPDATE`, and dates as seconds since 1970 in a floating-point column.
public enum CatalogDialect: Sendable {
    case sqlite, postgres

    /// Appended to a SELECT to lock its rows until the transaction ends. SQLite needs nothing: its write
    /// transaction already keeps every other writer out.
    public var forUpdate: String {
        switch self {
        case .sqlite: return ""
        case .postgres: return " FOR UPDATE"
        }
    }

    /// Appended to a SELECT to lock its rows and pass over those another transaction holds, so two
    /// servers claiming work at once never take the same row and never wait for each other.
    public var forUpdateSkipLocked: String {
        switch self {
        case .sqlite: return ""
        case .postgres: return " FOR UPDATE SKIP LOCKED"
        }
    }

    /// The store's own clock, in seconds since 1970: leases are judged by it, not by any server's clock.
    public var now: String {
        switch self {
        case .sqlite: return "((julianday('now') - 2440587.5) * 86400.0)"
        case .postgres: return "extract(epoch from clock_timestamp())::double precision"
        }
    }

    /// A table definition in this store's types: `{real}` a double, `{blob}` bytes, `{serial}` an
    /// increasing integer key.
    func ddl(_ sql: String) -> String {
        let types: [(String, String)]
        switch self {
        case .sqlite: types = [("{real}", "REAL"), ("{blob}", "BLOB"), ("{serial}", "INTEGER PRIMARY KEY AUTOINCREMENT")]
        case .postgres: types = [("{real}", "DOUBLE PRECISION"), ("{blob}", "BYTEA"), ("{serial}", "BIGSERIAL PRIMARY KEY")]
        }
        return types.reduce(sql) { $0.replacingOccurrences(of: $1.0, with: $1.1) }
    }
}
