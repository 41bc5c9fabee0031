import FerryConnectors
import FerryCore
import FerryEngine
import FerryMySQL
import Foundation
import Testing

@Suite("MySQL/MariaDB target databases (MySQLSettings.TargetDbType)")
struct MySQLTargetDatabaseTests {
    /// A PostgreSQL source with a table in each of two schemas.
    static func twoSchemas() throws -> TestDatabase {
        let source = try TestDatabase.make(.postgres, label: "src")
        try source.execute("""
            CREATE SCHEMA sales; CREATE TABLE app.users (id int PRIMARY KEY, name text); CREATE TABLE sales.orders (id int PRIMARY KEY, total numeric(8,2));
            INSERT INTO app.users VALUES (1, 'Ann'), (2, 'Bo'); INSERT INTO sales.orders VALUES (7, 12.50)
            """)
        return source
    }

    static func load(_ source: TestDatabase, into target: ConnectionURL, rules: String) async throws -> [TableProgress] {
        let options = FullLoadOptions(mappings: try TableMappings(json: #"{"rules":[\#(rules)]}"#))
        return try await FullLoadRunner(source: Connectors.source(for: source.url), target: Connectors.target(for: target), options: options).run()
    }

    static func databaseExists(_ name: String) throws -> Bool {
        try !MySQLConnection(TestDatabase.serverURL(.mysql)).query("SHOW DATABASES LIKE '\(name)'").isEmpty
    }

    static func drop(_ names: String...) {
        guard let conn = try? MySQLConnection(TestDatabase.serverURL(.mysql)) else { return }
        for name in names { try? conn.execute("DROP DATABASE IF EXISTS \(MySQLConnection.quote(name))") }
    }

    @Test("a target URL naming a database that does not exist yet loads (multiple-databases: each schema its own database)")
    func missingDatabaseIsCreated() async throws {
        let source = try Self.twoSchemas()
        let suffix = UUID().uuidString.prefix(8).lowercased()
        let (named, app) = ("ferry_new_\(suffix)", "ferry_app_\(suffix)")
        defer { source.drop(); Self.drop(named, app) }
        var target = try TestDatabase.serverURL(.mysql)
        target.database = named
        #expect(try !Self.databaseExists(named))
        let tables = try await Self.load(source, into: target, rules: """
            {"rule-type":"selection","rule-id":"1","rule-name":"app","object-locator":{"schema-name":"app","table-name":"%"},"rule-action":"include"},
            {"rule-type":"transformation","rule-id":"2","rule-name":"s","rule-target":"schema","object-locator":{"schema-name":"app"},"rule-action":"rename","value":"\(app)"}
            """)
        #expect(tables.map(\.state) == [.completed], "\(tables.map { $0.error ?? "" })")
        #expect(try MySQLConnection(TestDatabase.serverURL(.mysql)).query("SELECT count(*) FROM `\(app)`.users") == [["2"]])
        #expect(try Self.databaseExists(named), "the URL's database exists afterwards, for the connections that name it")
    }

    @Test("specific-database puts every schema's tables into the URL's database, creating it")
    func specificDatabase() async throws {
        let source = try Self.twoSchemas()
        let name = "ferry_one_\(UUID().uuidString.prefix(8).lowercased())"
        defer { source.drop(); Self.drop(name) }
        var target = try TestDatabase.serverURL(.mysql)
        target.database = name
        target.parameters[MySQLTargetDatabases.parameter] = "SPECIFIC_DATABASE"
        let tables = try await Self.load(source, into: target, rules: """
            {"rule-type":"selection","rule-id":"1","rule-name":"all","object-locator":{"schema-name":"%","table-name":"%"},"rule-action":"include"},
            {"rule-type":"selection","rule-id":"2","rule-name":"no-catalog","object-locator":{"schema-name":"public","table-name":"%"},"rule-action":"exclude"}
            """)
        #expect(tables.allSatisfy { $0.state == .completed } && tables.count == 2, "\(tables.map { "\($0.target): \($0.error ?? "")" })")
        #expect(Set(tables.map(\.target)) == [TableID(schema: name, name: "users"), TableID(schema: name, name: "orders")])
        let conn = try MySQLConnection(TestDatabase.serverURL(.mysql))
        #expect(try conn.query("SELECT (SELECT count(*) FROM `\(name)`.users), (SELECT total FROM `\(name)`.orders)") == [["2", "12.50"]])
    }

    @Test("a bad target_db_type, or specific-database without a database, fails naming the parameter")
    func badChoice() throws {
        var url = try TestDatabase.serverURL(.mysql)
        url.parameters[MySQLTargetDatabases.parameter] = "one-database"
        #expect { try MySQLTargetDatabases(url) } throws: { "\($0)".contains("target_db_type: 'one-database' is not one of multiple-databases, specific-database") }
        url.parameters[MySQLTargetDatabases.parameter] = "specific-database"
        url.database = nil
        #expect { try MySQLTargetDatabases(url) } throws: { "\($0)".contains("target_db_type: specific-database puts every table into the target URL's database") }
        #expect { try MySQLTarget(url: url).check(TablePlan(identity: TableSchema(id: TableID(schema: "a", name: "b"), engine: .postgres, columns: [], primaryKey: []))) } throws: { _ in true }
    }
}
