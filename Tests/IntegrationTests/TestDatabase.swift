import Testing
import FerryConnectors
import FerryCore
import FerryEngine
import FerryMySQL
import FerryPostgres
import Foundation
import GRDB

/// A throw-away database on one of the test servers (or a temp SQLite file), dropped by `drop()`.
struct TestDatabase: Sendable {
    let engine: EngineKind
    /// URL that reaches this database.
    let url: ConnectionURL
    /// Where tables live: a PostgreSQL schema, the MySQL database, or SQLite's `main`.
    let schema: String

    static func serverURL(_ engine: EngineKind) throws -> ConnectionURL {
        let variable = engine == .postgres ? "FERRY_TEST_POSTGRES_URL" : "FERRY_TEST_MYSQL_URL"
        guard let text = ProcessInfo.processInfo.environment[variable] else {
            throw FerryError(.invalidParameter, "\(variable) is not set: run the tests with scripts/test.sh, which starts the databases")
        }
        return try ConnectionURL.parse(text)
    }

    /// Creates an empty database with a unique name.
    static func make(_ engine: EngineKind, label: String = "t") throws -> TestDatabase {
        let name = "ferry_\(label)_\(UUID().uuidString.prefix(8).lowercased())"
        switch engine {
        case .postgres:
            var url = try serverURL(.postgres)
            try PGConnection(url).execute("CREATE DATABASE \(name)")
            url.database = name
            try PGConnection(url).execute("CREATE SCHEMA app")
            return TestDatabase(engine: engine, url: url, schema: "app")
        case .mysql:
            var url = try serverURL(.mysql)
            try MySQLConnection(url).execute("CREATE DATABASE \(name) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin")
            url.database = name
            return TestDatabase(engine: engine, url: url, schema: name)
        case .sqlite:
            let path = NSTemporaryDirectory() + name + ".db"
            return TestDatabase(engine: engine, url: ConnectionURL(engine: .sqlite, host: "", database: path), schema: "main")
        }
    }

    func drop() {
        switch engine {
        case .postgres:
            guard var admin = try? Self.serverURL(.postgres), let name = url.database else { return }
            admin.database = "postgres"
            try? PGConnection(admin).execute("DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
        case .mysql:
            // A session that still holds one of its tables must not make the drop wait for a year (the default).
            let conn = try? MySQLConnection(url)
            try? conn?.execute("SET SESSION lock_wait_timeout = 30")
            try? conn?.execute("DROP DATABASE IF EXISTS \(MySQLConnection.quote(schema))")
        case .sqlite:
            for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: (url.database ?? "") + suffix) }
        }
    }

    /// The SQLite file, opened to wait for locks as Ferry's own connections do: a WAL file's last
    /// connection checkpoints as it closes and holds the file for that moment.
    private func sqliteQueue() throws -> DatabaseQueue {
        var configuration = Configuration()
        configuration.busyMode = .timeout(60)
        return try DatabaseQueue(path: url.database!, configuration: configuration)
    }

    /// Runs statements (separated by `;\n` for the server engines).
    func execute(_ sql: String) throws {
        switch engine {
        case .postgres: try PGConnection(url).execute(sql)
        case .mysql:
            let conn = try MySQLConnection(url)
            for statement in sql.components(separatedBy: ";\n") where !statement.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
                try conn.execute(statement)
            }
        case .sqlite:
            try sqliteQueue().write { try $0.execute(sql: sql) }
        }
    }

    /// The columns of one of this database's tables, in order.
    func columnNames(_ table: String) throws -> [String] {
        switch engine {
        case .postgres:
            return try query("SELECT column_name FROM information_schema.columns WHERE table_schema = '\(schema)' AND table_name = '\(table)' ORDER BY ordinal_position").map { $0[0] ?? "" }
        case .mysql:
            return try query("SELECT COLUMN_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = '\(schema)' AND TABLE_NAME = '\(table)' ORDER BY ORDINAL_POSITION").map { $0[0] ?? "" }
        case .sqlite:
            return try query("SELECT name FROM pragma_table_info('\(table)') ORDER BY cid").map { $0[0] ?? "" }
        }
    }

    /// Runs a query; every value comes back as text (nil for NULL).
    func query(_ sql: String) throws -> [[String?]] {
        switch engine {
        case .postgres: return try PGConnection(url).query(sql)
        case .mysql: return try MySQLConnection(url).query(sql)
        case .sqlite:
            return try sqliteQueue().read { db in
                try Row.fetchAll(db, sql: sql).map { row in
                    (0..<row.count).map { i -> String? in
                        let value: DatabaseValue = row[i]
                        switch value.storage {
                        case .null: return nil
                        case let .int64(v): return String(v)
                        case let .double(v): return String(v)
                        case let .string(s): return s
                        case let .blob(d): return Hex.encode([UInt8](d))
                        }
                    }
                }
            }
        }
    }

    /// The table's structure and all its rows as Ferry reads them, ordered by the first column.
    func readTable(_ name: String) throws -> (TableSchema, [[Value]]) {
        let source = Connectors.source(for: url)
        let mappings = try TableMappings(json: """
            {"rules":[{"rule-type":"selection","rule-id":"1","rule-name":"1","object-locator":{"schema-name":"\(schema)","table-name":"\(name)"},"rule-action":"explicit"}]}
            """)
        guard let table = try source.discover(mappings).first else {
            throw FerryError(.notFound, "\(schema).\(name) not found in \(url)")
        }
        let session = try source.openSnapshot(workers: 1)
        defer { session.close() }
        let pipe = BatchPipe(capacity: 1_000_000)
        try session.read(TablePlan(identity: table), chunk: .whole, encoding: .values, into: pipe)
        pipe.finish()
        var rows: [[Value]] = []
        while let batch = try pipe.receive() {
            if case let .rows(batchRows) = batch { rows += batchRows }
        }
        rows.sort { Self.sortKey($0.first ?? .null) < Self.sortKey($1.first ?? .null) }
        return (table, rows)
    }

    private static func sortKey(_ value: Value) -> Int64 {
        if case let .int(v) = value { return v }
        return Int64.max
    }
}

/// A source/target engine pair.
struct EnginePair: CustomTestStringConvertible, Sendable {
    let source: EngineKind
    let target: EngineKind

    static let all: [EnginePair] = EngineKind.allCases.flatMap { s in EngineKind.allCases.map { EnginePair(source: s, target: $0) } }

    var testDescription: String { "\(source.rawValue)→\(target.rawValue)" }
}

/// Runs a full load from one test database to another, renaming the source schema to the target's;
/// `configure` adjusts the load's options.
func migrate(from source: TestDatabase, to target: TestDatabase, prepMode: TargetTablePrepMode = .dropAndCreate,
             extraRules: String = "", parallelism: Int = 4, chunkBytes: Int64 = 64 << 20,
             configure: (inout FullLoadOptions) -> Void = { _ in }) async throws -> [TableProgress] {
    var options = FullLoadOptions(mappings: try TableMappings(json: migrationRules(source, target, extraRules: extraRules)),
                                  prepMode: prepMode, parallelism: parallelism)
    options.chunkBytes = chunkBytes
    configure(&options)
    let runner = FullLoadRunner(source: Connectors.source(for: source.url), target: Connectors.target(for: target.url), options: options)
    return try await runner.run()
}

/// The rules `migrate(from:to:)` uses: every table of the source schema, renamed into the target's, and `extraRules`.
func migrationRules(_ source: TestDatabase, _ target: TestDatabase, extraRules: String = "") -> String {
    """
    {"rules":[
      {"rule-type":"selection","rule-id":"1","rule-name":"all","object-locator":{"schema-name":"\(source.schema)","table-name":"%"},"rule-action":"include"},
      {"rule-type":"transformation","rule-id":"2","rule-name":"schema","rule-target":"schema","object-locator":{"schema-name":"\(source.schema)"},"rule-action":"rename","value":"\(target.schema)"}
      \(extraRules)
    ]}
    """
}
