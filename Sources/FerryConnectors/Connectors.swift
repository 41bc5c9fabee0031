import FerryCore
import FerryMySQL
import FerryPostgres
import FerrySQLite

/// The one place that knows every engine: turns a URL into its source or target connector.
public enum Connectors {
    public static func source(for url: ConnectionURL) -> any SourceConnector {
        switch url.engine {
        case .postgres: return PostgresSource(url: url)
        case .mysql: return MySQLSource(url: url)
        case .sqlite: return SQLiteSource(url: url)
        }
    }

    /// Checks the engine-specific parameters of a target URL (MySQL's `target_db_type`) before anything
    /// connects; a mistake names the parameter.
    public static func checkTarget(_ url: ConnectionURL) throws {
        if url.engine == .mysql { _ = try MySQLTargetDatabases(url) }
    }

    public static func target(for url: ConnectionURL) -> any TargetConnector {
        switch url.engine {
        case .postgres: return PostgresTarget(url: url)
        case .mysql: return MySQLTarget(url: url)
        case .sqlite: return SQLiteTarget(url: url)
        }
    }
}
