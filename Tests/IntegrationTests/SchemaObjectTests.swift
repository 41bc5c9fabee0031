import FerryConnectors
import FerryCore
import FerryEngine
import Foundation
import FerryMySQL
import FerryPostgres
import FerrySQLite
import Testing

@Suite("Counters, generated defaults and objects not copied")
struct SchemaObjectTests {
    /// A table whose id the database numbers and whose `created_at` and `token` it fills in; ids 1–3 and 10.
    static func createCounted(in db: TestDatabase) throws {
        let table = db.qualified("counted")
        switch db.engine {
        case .postgres:
            try db.execute("""
                CREATE TABLE \(table) (id bigserial PRIMARY KEY, created_at timestamp NOT NULL DEFAULT now(),
                  token uuid NOT NULL DEFAULT gen_random_uuid(), name text DEFAULT 'x');
                CREATE TABLE \(db.qualified("ticket")) (no int GENERATED ALWAYS AS IDENTITY PRIMARY KEY, what text)
                """)
        case .mysql:
            try db.execute("""
                CREATE TABLE \(table) (id bigint AUTO_INCREMENT PRIMARY KEY, created_at datetime(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
                  token char(36) NOT NULL DEFAULT (uuid()), name varchar(50) DEFAULT 'x')
                """)
        case .sqlite:
            try db.execute("""
                CREATE TABLE counted (id INTEGER PRIMARY KEY AUTOINCREMENT, created_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
                  token TEXT, name TEXT DEFAULT 'x')
                """)
        }
        for name in ["a", "b", "c"] { try db.execute("INSERT INTO \(table) (name) VALUES ('\(name)')") }
        try db.execute("INSERT INTO \(table) (id, name) VALUES (10, 'ten')")
    }

    /// Inserts a row without an id, time or token on the target; returns its id, and whether the time and token were filled in.
    static func insertWithoutValues(_ db: TestDatabase) throws -> [String?] {
        let table = db.qualified("counted")
        try db.execute("INSERT INTO \(table) (name) VALUES ('after cutover')")
        let token = db.engine == .sqlite ? "length(token) IS NOT NULL" : "token IS NOT NULL"
        return try db.query("SELECT id, created_at IS NOT NULL, \(token) FROM \(table) WHERE name = 'after cutover'").first ?? []
    }

    @Test("the first insert without an id after the load takes the next id, and the time and UUID defaults fill in", arguments: EnginePair.all)
    func countersAndDefaults(pair: EnginePair) async throws {
        let source = try TestDatabase.make(pair.source, label: "src")
        let target = try TestDatabase.make(pair.target, label: "dst")
        defer { source.drop(); target.drop() }
        try Self.createCounted(in: source)
        let tables = try await migrate(from: source, to: target)
        #expect(tables.allSatisfy { $0.state == .completed }, "\(tables.map { "\($0.source): \($0.error ?? "")" })")
        let counted = try #require(tables.first { $0.source.name == "counted" })
        let tokenCarried = pair.source != .sqlite
        let row = try Self.insertWithoutValues(target)
        let truthy = target.engine == .postgres ? "t" : "1"
        #expect(row.first == "11", "the counter continues past the highest loaded id (10)")
        #expect(row.dropFirst().first == truthy, "the current-time default is carried")
        if tokenCarried { #expect(row.last == truthy, "the random-UUID default is carried") }
        if pair.source == .postgres {
            #expect(tables.first { $0.source.name == "ticket" }?.warnings.contains { $0.contains("GENERATED ALWAYS on the source") } == true)
        }
        #expect(!counted.warnings.contains { $0.contains("is not carried") }, "\(counted.warnings)")

        // The source hands out more ids while CDC would run; at cutover the counters follow the source's.
        for name in ["d", "e"] { try source.execute("INSERT INTO \(source.qualified("counted")) (name) VALUES ('\(name)')") }
        let plans = try FullLoadRunner(source: Connectors.source(for: source.url), target: Connectors.target(for: target.url),
                                       options: FullLoadOptions(mappings: try TableMappings(json: migrationRules(source, target)))).discoverPlans()
        let moved = try CounterSync.run(source: Connectors.source(for: source.url), target: Connectors.target(for: target.url), plans: plans, margin: 100)
        // The id the source hands out next (a PostgreSQL sequence did not move for the explicit 10).
        try source.execute("INSERT INTO \(source.qualified("counted")) (name) VALUES ('probe')")
        let next = try #require(try source.query("SELECT id FROM \(source.qualified("counted")) WHERE name = 'probe'").first?.first.flatMap { $0.flatMap { Int64($0) } })
        #expect(moved.values.contains { $0 == ["id": next + 100] }, "\(moved)")
        try target.execute("INSERT INTO \(target.qualified("counted")) (name) VALUES ('after sync')")
        #expect(try target.query("SELECT id FROM \(target.qualified("counted")) WHERE name = 'after sync'") == [[String(max(next + 100, 12))]])
    }

    @Test("a default the target has no equivalent for is named in the table's warnings; views, triggers and routines in the load's")
    func whatIsNotCarriedIsSaid() async throws {
        let source = try TestDatabase.make(.postgres, label: "src")
        let target = try TestDatabase.make(.sqlite, label: "dst")
        defer { source.drop(); target.drop() }
        try source.execute("""
            CREATE TABLE app.notes (id int PRIMARY KEY, body text, stamp text DEFAULT md5(random()::text));
            CREATE VIEW app.recent AS SELECT id FROM app.notes;
            CREATE FUNCTION app.touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
            CREATE TRIGGER notes_touch BEFORE UPDATE ON app.notes FOR EACH ROW EXECUTE FUNCTION app.touch()
            """)
        let runner = FullLoadRunner(source: Connectors.source(for: source.url), target: Connectors.target(for: target.url),
                                    options: FullLoadOptions(mappings: try TableMappings(json: migrationRules(source, target))))
        let tables = try await runner.run()
        #expect(tables.first?.warnings.contains { $0.contains("the default of app.notes.stamp (md5((random())::text)) is not carried: SQLite has no equivalent") } == true,
                "\(tables.first?.warnings ?? [])")
        let warnings = runner.status.warnings
        #expect(warnings.contains { $0.hasPrefix("view app.recent is not copied") }, "\(warnings)")
        #expect(warnings.contains { $0.hasPrefix("function app.touch is not copied") }, "\(warnings)")
        #expect(warnings.contains { $0.hasPrefix("trigger notes_touch on app.notes is not copied") }, "\(warnings)")
    }

    @Test("CHECK constraints reach a target of the same engine and are named in the warnings elsewhere",
          arguments: [EnginePair(source: .postgres, target: .postgres), EnginePair(source: .mysql, target: .mysql),
                      EnginePair(source: .postgres, target: .mysql)])
    func checkConstraints(pair: EnginePair) async throws {
        let source = try TestDatabase.make(pair.source, label: "src")
        let target = try TestDatabase.make(pair.target, label: "dst")
        defer { source.drop(); target.drop() }
        try source.execute("CREATE TABLE \(source.qualified("readings")) (id int PRIMARY KEY, value int NOT NULL, CONSTRAINT value_small CHECK (value < 100))")
        try source.execute("INSERT INTO \(source.qualified("readings")) VALUES (1, 5)")
        let tables = try await migrate(from: source, to: target)
        #expect(tables.first?.state == .completed, "\(tables.first?.error ?? "")")
        let refused = (try? target.execute("INSERT INTO \(target.qualified("readings")) VALUES (2, 500)")) == nil
        if pair.source == pair.target {
            #expect(refused, "the CHECK constraint is on the target")
        } else {
            #expect(!refused)
            #expect(tables.first?.warnings.contains { $0.contains("the CHECK constraints of \(source.schema).readings (value_small) are not carried") } == true,
                    "\(tables.first?.warnings ?? [])")
        }
    }

    @Test("a sequence no column owns is copied PostgreSQL to PostgreSQL where it stands, re-synced at cutover, and named elsewhere",
          arguments: [EngineKind.postgres, .sqlite])
    func standaloneSequences(target engine: EngineKind) async throws {
        let source = try TestDatabase.make(.postgres, label: "src")
        let target = try TestDatabase.make(engine, label: "dst")
        defer { source.drop(); target.drop() }
        try source.execute("""
            CREATE SEQUENCE app.invoice_no START 1000; SELECT nextval('app.invoice_no'), nextval('app.invoice_no'), nextval('app.invoice_no');
            CREATE TABLE app.invoices (id int PRIMARY KEY DEFAULT nextval('app.invoice_no'), total int)
            """)
        let runner = FullLoadRunner(source: Connectors.source(for: source.url), target: Connectors.target(for: target.url),
                                    options: FullLoadOptions(mappings: try TableMappings(json: migrationRules(source, target))))
        _ = try await runner.run()
        guard engine == .postgres else {
            #expect(runner.status.warnings.contains { $0.hasPrefix("sequence app.invoice_no is not copied") && $0.contains("set it to 1003") },
                    "\(runner.status.warnings)")
            return
        }
        #expect(try target.query("SELECT nextval('app.invoice_no')") == [["1003"]])
        try source.execute("SELECT setval('app.invoice_no', 2000)")
        _ = try CounterSync.run(source: Connectors.source(for: source.url), target: Connectors.target(for: target.url),
                                plans: try runner.discoverPlans(), margin: 10)
        #expect(try target.query("SELECT nextval('app.invoice_no')") == [["2011"]])
    }

    @Test("an unsigned 64-bit counter stays a plain column where its values may not fit an identity or the rowid; MySQL keeps AUTO_INCREMENT")
    func unsignedBigCounter() throws {
        let id = Column(name: "id", type: .integer(bytes: 8, unsigned: true), nativeType: "bigint(20) unsigned", nullable: false,
                        generated: .counter(.init()))
        let plan = TablePlan(identity: TableSchema(id: TableID(schema: "app", name: "t"), engine: .mysql, columns: [id], primaryKey: ["id"]))
        let url = ConnectionURL(engine: .sqlite, host: "", database: "/tmp/unused.db")
        #expect(PostgresTarget(url: url).generatedDefaultSQL(plan.columns[0], in: plan) == nil)
        #expect(SQLiteTarget(url: url).generatedDefaultSQL(plan.columns[0], in: plan) == nil)
        #expect(MySQLTarget(url: url).generatedDefaultSQL(plan.columns[0], in: plan) == "AUTO_INCREMENT")
        #expect(try SQLiteTarget(url: url).columnDefinitions(plan) == ["\"id\" DECIMAL_TEXT(20,0) NOT NULL"])
    }
}
