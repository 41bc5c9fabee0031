/// Which server a change stream reads, as the source tells it on each connect, so that a failover shows:
/// PostgreSQL's system identifier (which a promoted physical standby keeps) and timeline (which a promotion
/// raises); MariaDB/MySQL's server id (another server after a failover) and GTID position.
public struct SourceIdentity: Hashable, Sendable, Codable {
    public var engine: EngineKind
    /// The database cluster (PostgreSQL's system identifier) or server (MySQL's `server_id`).
    public var server: String
    /// Where in its history the server is: PostgreSQL's timeline, MySQL's GTID position.
    public var history: String

    public init(engine: EngineKind, server: String, history: String) {
        self.engine = engine
        self.server = server
        self.history = history
    }

    public var description: String {
        switch engine {
        case .postgres: return "PostgreSQL system \(server), timeline \(history)"
        case .mysql: return "MySQL/MariaDB server_id \(server), GTID position \(history.isEmpty ? "(none)" : history)"
        case .sqlite: return "SQLite \(server)"
        }
    }

    /// How the source differs from what an earlier connect saw.
    public enum Change: Equatable, Sendable {
        /// Another server in the same line: a promoted PostgreSQL standby (new timeline), a promoted MySQL replica.
        case failover(String)
        /// Another PostgreSQL cluster altogether: its WAL positions do not continue the earlier one's.
        case unrelated(String)
    }

    /// What changed since `earlier`; nil when nothing that names the server did (a MySQL GTID position moves
    /// with every write and is not compared).
    public func change(since earlier: SourceIdentity) -> Change? {
        guard engine == earlier.engine else { return .unrelated("the source was \(earlier.description) and is now \(description)") }
        switch engine {
        case .postgres:
            if server != earlier.server {
                return .unrelated("the source was PostgreSQL system \(earlier.server) and is now system \(server), another database cluster")
            }
            return history == earlier.history ? nil : .failover("the source's timeline went from \(earlier.history) to \(history): a standby was promoted")
        case .mysql:
            return server == earlier.server ? nil : .failover("the source's server_id went from \(earlier.server) to \(server): another server (a promoted replica) answers now")
        case .sqlite:
            return server == earlier.server ? nil : .unrelated("the source was \(earlier.description) and is now \(description)")
        }
    }
}
