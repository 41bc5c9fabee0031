import FerryConnectors
import FerryCore
import FerryEngine
import FerryMySQL
import FerryPostgres
import Foundation
import Testing

@Suite("Schema objects and error handling")
struct SchemaAndErrorTests {
    static func createShop(in db: TestDatabase) throws {
        let s = db.engine == .postgres ? "\(db.schema)." : ""
        let text = db.engine == .mysql ? "varchar(100)" : "text"
        try db.execute("""
            CREATE TABLE \(s)customers (id integer PRIMARY KEY, email varchar(100) NOT NULL, name \(text) DEFAULT 'anon');
            CREATE UNIQUE INDEX customers_email ON \(s)customers (email);
            CREATE TABLE \(s)orders (id integer PRIMARY KEY, customer_id integer NOT NULL, total decimal(10,2),
                                     FOREIGN KEY (customer_id) REFERENCES \(s)customers (id));
            CREATE INDEX orders_customer ON \(s)orders (customer_id);
            CREATE TABLE \(s)audit_log (at_time varchar(40), message \(text));
            INSERT INTO \(s)customers VALUES (1, 'a@example.com', 'Ann'), (2, 'b@example.com', 'Bo');
            INSERT INTO \(s)orders VALUES (10, 1, 9.99), (11, 2, 100.00), (12, 1, 0.01);
            INSERT INTO \(s)audit_log VALUES ('2024-01-01', 'no primary key here')
            """)
    }

    @Test("indexes and foreign keys are created after the data", arguments: EnginePair.all)
    func indexesAndForeignKeys(pair: EnginePair) async throws {
        let source = try TestDatabase.make(pair.source, label: "src")
        let target = try TestDatabase.make(pair.target, label: "dst")
        defer { source.drop(); target.drop() }
        try Self.createShop(in: source)
        let tables = try await migrate(from: source, to: target)
        #expect(tables.count == 3)
        #expect(tables.allSatisfy { $0.state == .completed }, "\(tables.map { "\($0.source): \($0.error ?? "")" })")
        #expect(tables.first { $0.source.name == "audit_log" }?.warnings.contains { $0.contains("no primary key") } == true)

        let (customers, customerRows) = try target.readTable("customers")
        #expect(customers.primaryKey == ["id"])
        #expect(customers.indexes.contains { $0.unique && $0.columns == ["email"] })
        #expect(customerRows.count == 2)
        let (orders, orderRows) = try target.readTable("orders")
        #expect(orders.indexes.contains { !$0.unique && $0.columns == ["customer_id"] })
        #expect(orders.foreignKeys.count == 1)
        #expect(orders.foreignKeys.first?.referencedTable.name == "customers")
        #expect(orders.foreignKeys.first?.columns == ["customer_id"])
        #expect(orderRows.map { $0[0] } == [.int(10), .int(11), .int(12)])
        let (_, logRows) = try target.readTable("audit_log")
        #expect(logRows.count == 1)
    }

    @Test("a value the target cannot hold fails only its table, with the column named")
    func valueOutOfRange() async throws {
        let source = try TestDatabase.make(.postgres, label: "src")
        let target = try TestDatabase.make(.mysql, label: "dst")
        defer { source.drop(); target.drop() }
        try source.execute("""
            CREATE TABLE app.good (id int PRIMARY KEY, v text);
            INSERT INTO app.good VALUES (1, 'fine');
            CREATE TABLE app.bad (id int PRIMARY KEY, v double precision);
            INSERT INTO app.bad VALUES (1, 1.5), (2, 'NaN')
            """)
        let tables = try await migrate(from: source, to: target)
        let good = try #require(tables.first { $0.source.name == "good" })
        let bad = try #require(tables.first { $0.source.name == "bad" })
        #expect(good.state == .completed)
        #expect(bad.state == .failed)
        #expect(bad.error?.contains("\(target.schema).bad.v: MySQL cannot store NaN") == true, "\(bad.error ?? "")")
    }

    @Test("with a table error limit the load stops and says which tables failed; without one the others go on")
    func tableErrorLimit() async throws {
        let source = try TestDatabase.make(.postgres, label: "src")
        let target = try TestDatabase.make(.mysql, label: "dst")
        defer { source.drop(); target.drop() }
        try source.execute("""
            CREATE TABLE app.bad (id int PRIMARY KEY, v double precision);
            INSERT INTO app.bad VALUES (1, 'NaN');
            CREATE TABLE app.good (id int PRIMARY KEY, v text);
            INSERT INTO app.good VALUES (1, 'fine')
            """)
        let mappings = try TableMappings(json: """
            {"rules":[{"rule-type":"selection","rule-id":"1","rule-name":"bad","object-locator":{"schema-name":"app","table-name":"bad"},"rule-action":"include","load-order":2},
            {"rule-type":"selection","rule-id":"2","rule-name":"good","object-locator":{"schema-name":"app","table-name":"good"},"rule-action":"include","load-order":1},
            {"rule-type":"transformation","rule-id":"3","rule-name":"s","rule-target":"schema","object-locator":{"schema-name":"app"},"rule-action":"rename","value":"\(target.schema)"}]}
            """)
        var options = FullLoadOptions(mappings: mappings, parallelism: 1)
        options.tableErrorLimit = 1
        let runner = FullLoadRunner(source: Connectors.source(for: source.url), target: Connectors.target(for: target.url), options: options)
        let error = await #expect(throws: FerryError.self) { try await runner.run() }
        #expect(error?.message.hasPrefix("the load stopped after 1 table error (ErrorBehavior stops the task at 1): app.bad:") == true, "\(error?.message ?? "")")
        #expect(runner.status.snapshot().first { $0.source.name == "good" }?.state == .cancelled, "the next table does not start")

        options.tableErrorLimit = nil
        let tables = try await FullLoadRunner(source: Connectors.source(for: source.url), target: Connectors.target(for: target.url), options: options).run()
        #expect(tables.first { $0.source.name == "good" }?.state == .completed)
    }

    @Test("a NUL character cannot enter PostgreSQL text and is reported, never dropped")
    func nulIntoPostgres() async throws {
        let source = try TestDatabase.make(.sqlite, label: "src")
        let target = try TestDatabase.make(.postgres, label: "dst")
        defer { source.drop(); target.drop() }
        try source.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT); INSERT INTO t VALUES (1, 'a' || char(0) || 'b');")
        let tables = try await migrate(from: source, to: target)
        #expect(tables.first?.state == .failed)
        #expect(tables.first?.error?.contains("NUL character") == true)
    }

    @Test("an explicit rule naming a missing table reports it; the other tables load")
    func missingSourceTable() async throws {
        let source = try TestDatabase.make(.postgres, label: "src")
        let target = try TestDatabase.make(.sqlite, label: "dst")
        defer { source.drop(); target.drop() }
        try source.execute("CREATE TABLE app.present (id int PRIMARY KEY); INSERT INTO app.present VALUES (1)")
        let tables = try await migrate(from: source, to: target, extraRules: """
            ,{"rule-type":"selection","rule-id":"3","rule-name":"3","object-locator":{"schema-name":"app","table-name":"absent"},"rule-action":"explicit"}
            """)
        #expect(tables.first { $0.source.name == "present" }?.state == .completed)
        let missing = try #require(tables.first { $0.source.name == "absent" })
        #expect(missing.state == .missing)
        #expect(missing.error == "source table app.absent does not exist")
    }

    @Test("do-nothing into a table whose columns differ names the missing columns")
    func doNothingMismatch() async throws {
        let source = try TestDatabase.make(.mysql, label: "src")
        let target = try TestDatabase.make(.postgres, label: "dst")
        defer { source.drop(); target.drop() }
        try source.execute("CREATE TABLE t (id int PRIMARY KEY, name varchar(10), extra int);\nINSERT INTO t VALUES (1, 'x', 2)")
        try target.execute("CREATE TABLE app.t (id int PRIMARY KEY, name varchar(10))")
        let tables = try await migrate(from: source, to: target, prepMode: .doNothing)
        #expect(tables.first?.state == .failed)
        #expect(tables.first?.error?.contains("has no column 'extra'") == true, "\(tables.first?.error ?? "")")
        #expect(try target.query("SELECT count(*) FROM app.t") == [["0"]])
    }

    @Test("truncate-before-load empties the existing table first")
    func truncateBeforeLoad() async throws {
        let source = try TestDatabase.make(.sqlite, label: "src")
        let target = try TestDatabase.make(.mysql, label: "dst")
        defer { source.drop(); target.drop() }
        try source.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT); INSERT INTO t VALUES (1, 'new');")
        try target.execute("CREATE TABLE t (id int PRIMARY KEY, v varchar(10));\nINSERT INTO t VALUES (7, 'old')")
        let tables = try await migrate(from: source, to: target, prepMode: .truncateBeforeLoad)
        #expect(tables.first?.state == .completed)
        #expect(try target.query("SELECT id, v FROM t") == [["1", "new"]])
    }

    @Test("unreachable host, wrong password and missing database say what and where")
    func connectionErrors() async throws {
        let pg = try TestDatabase.serverURL(.postgres)
        let my = try TestDatabase.serverURL(.mysql)
        let target = try TestDatabase.make(.sqlite, label: "dst")
        defer { target.drop() }
        func message(_ url: String) async -> String {
            let runner = FullLoadRunner(source: Connectors.source(for: try! ConnectionURL.parse(url)),
                                        target: Connectors.target(for: target.url), options: FullLoadOptions())
            do { _ = try await runner.run(); return "no error" } catch { return "\(error)" }
        }
        #expect(await message("postgres://postgres@127.0.0.1:1/postgres").contains("PostgreSQL 127.0.0.1:1/postgres: connection to server"))
        #expect(await message("postgres://postgres@127.0.0.1:\(pg.port!)/no_such_db").contains("database \"no_such_db\" does not exist"))
        #expect(await message("mysql://root:wrong@127.0.0.1:\(my.port!)/mysql").contains("Access denied for user 'root'"))
        #expect(await message("mysql://root@127.0.0.1:\(my.port!)/no_such_db").contains("Unknown database 'no_such_db'"))
        #expect(await message("sqlite:///nonexistent/file.db").contains("SQLite /nonexistent/file.db: the file does not exist"))
    }

    @Test("large PostgreSQL tables split into ctid chunks that together copy every row once")
    func chunkedCopy() async throws {
        let source = try TestDatabase.make(.postgres, label: "src")
        let target = try TestDatabase.make(.postgres, label: "dst")
        defer { source.drop(); target.drop() }
        try source.execute("""
            CREATE TABLE app.wide (id bigint PRIMARY KEY, payload text);
            INSERT INTO app.wide SELECT g, repeat(md5(g::text), 6) FROM generate_series(1, 420000) g
            """)
        let tables = try await migrate(from: source, to: target, parallelism: 4)
        let wide = try #require(tables.first)
        #expect(wide.state == .completed)
        #expect(wide.chunks > 1)
        #expect(wide.passthrough)
        #expect(wide.rowsLoaded == 420_000)
        #expect(try target.query("SELECT count(*), count(DISTINCT id), sum(id) FROM app.wide") == [["420000", "420000", "88200210000"]])
    }
}

@Suite("Stopping a load")
struct CancellationTests {
    @Test("cancelling stops running copies and marks every unfinished table")
    func cancelMidLoad() async throws {
        let source = try TestDatabase.make(.postgres, label: "src")
        let target = try TestDatabase.make(.sqlite, label: "dst")
        defer { source.drop(); target.drop() }
        try source.execute("""
            CREATE TABLE app.large (id bigint PRIMARY KEY, v text);
            INSERT INTO app.large SELECT g, md5(g::text) FROM generate_series(1, 1000000) g;
            CREATE TABLE app.small (id int PRIMARY KEY);
            INSERT INTO app.small VALUES (1);
            ANALYZE
            """)
        let rules = """
            {"rules":[{"rule-type":"selection","rule-id":"1","rule-name":"1","object-locator":{"schema-name":"app","table-name":"%"},"rule-action":"include"}]}
            """
        let runner = FullLoadRunner(source: Connectors.source(for: source.url), target: Connectors.target(for: target.url),
                                    options: FullLoadOptions(mappings: try TableMappings(json: rules), parallelism: 1))
        let load = Task { try await runner.run() }
        defer { load.cancel() }
        let deadline = ContinuousClock.now + .seconds(60)
        while runner.status.snapshot().first(where: { $0.source.name == "large" })?.rowsLoaded ?? 0 == 0, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        load.cancel()
        let tables = try await load.value
        let large = try #require(tables.first { $0.source.name == "large" })
        let small = try #require(tables.first { $0.source.name == "small" })
        #expect(large.state == .cancelled)
        #expect(large.rowsLoaded > 0 && large.rowsLoaded < 1_000_000)
        #expect(large.error?.contains("the target table is incomplete") == true, "\(large.error ?? "")")
        #expect(small.state == .cancelled)
        #expect(small.error == "not started: the load was stopped")
    }
}

@Suite("Snapshot consistency")
struct SnapshotTests {
    @Test("PostgreSQL workers share one snapshot: tables written together stay consistent")
    func sharedSnapshot() async throws {
        let source = try TestDatabase.make(.postgres, label: "src")
        let target = try TestDatabase.make(.postgres, label: "dst")
        defer { source.drop(); target.drop() }
        try source.execute("""
            CREATE TABLE app.a (id bigserial PRIMARY KEY, payload text);
            CREATE TABLE app.b (id bigserial PRIMARY KEY, payload text);
            INSERT INTO app.a (payload) SELECT md5(g::text) FROM generate_series(1, 300000) g;
            INSERT INTO app.b (payload) SELECT md5(g::text) FROM generate_series(1, 300000) g;
            ANALYZE
            """)
        let writing = ManagedFlag()
        defer { writing.stop() }
        // The writer blocks on its driver, so it gets a thread of its own, off Swift's cooperative pool.
        let writer = Task {
            try await BlockingWork.run("test-writer") {
                let conn = try PGConnection(source.url)
                var transactions = 0
                while !writing.isStopped {
                    try conn.execute("BEGIN; INSERT INTO app.a (payload) VALUES ('w'); INSERT INTO app.b (payload) VALUES ('w'); COMMIT")
                    transactions += 1
                }
                return transactions
            }
        }
        try await waitUntil { Int(try source.query("SELECT count(*) FROM app.a")[0][0] ?? "0")! > 300_050 }
        let tables = try await migrate(from: source, to: target, parallelism: 2)
        writing.stop()
        let transactions = try await writer.value
        #expect(tables.allSatisfy { $0.state == .completed })
        #expect(transactions > 10, "the writer must have run during the load")
        let counts = try target.query("SELECT (SELECT count(*) FROM app.a), (SELECT count(*) FROM app.b)")
        #expect(counts.first?[0] == counts.first?[1], "a and b were read at different moments: \(counts)")
        #expect(Int(counts.first?[0] ?? "0")! > 300_000)
    }
}

/// Polls `condition` until it holds (the writer has committed), for at most `seconds`: generous, because
/// the CDC suites run side by side on a 2-core machine and a busy one can take many seconds per step.
func waitUntil(seconds: Int = 180, sourceLocation: SourceLocation = #_sourceLocation, _ condition: () throws -> Bool) async throws {
    let deadline = ContinuousClock.now + .seconds(seconds)
    while try !condition() {
        guard ContinuousClock.now < deadline else {
            Issue.record("the condition never held within \(seconds) s", sourceLocation: sourceLocation)
            return
        }
        try await Task.sleep(for: .milliseconds(100))
    }
}

/// A stop signal shared between a test and a writer thread.
final class ManagedFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var stopped = false
    var isStopped: Bool { lock.withLock { stopped } }
    func stop() { lock.withLock { stopped = true } }
}

extension SnapshotTests {
    @Test("MySQL key-range chunks open their snapshots together: rows updated together stay equal")
    func mysqlChunksShareOneMoment() async throws {
        let source = try TestDatabase.make(.mysql, label: "src")
        let target = try TestDatabase.make(.postgres, label: "dst")
        defer { source.drop(); target.drop() }
        try source.execute("""
            CREATE TABLE t (id bigint PRIMARY KEY, v int NOT NULL, pad char(200));
            INSERT INTO t SELECT seq, 0, repeat('x', 200) FROM seq_1_to_200000;
            ANALYZE TABLE t
            """)
        let writing = ManagedFlag()
        defer { writing.stop() }
        let writer = Task {
            try await BlockingWork.run("test-writer") {
                let conn = try MySQLConnection(source.url)
                var updates = 0
                while !writing.isStopped {
                    try conn.execute("UPDATE t SET v = v + 1 WHERE id IN (1, 200000)")
                    updates += 1
                }
                return updates
            }
        }
        try await waitUntil { Int(try source.query("SELECT v FROM t WHERE id = 1")[0][0] ?? "0")! > 50 }
        let tables = try await migrate(from: source, to: target, parallelism: 4, chunkBytes: 4 << 20)
        writing.stop()
        let updates = try await writer.value
        let table = try #require(tables.first)
        #expect(table.state == .completed, "\(table.error ?? "")")
        #expect(table.chunks > 1)
        #expect(updates > 10)
        let rows = try target.query("SELECT count(*), (SELECT v FROM \(target.schema).t WHERE id = 1), (SELECT v FROM \(target.schema).t WHERE id = 200000) FROM \(target.schema).t")
        #expect(rows.first?[0] == "200000")
        #expect(rows.first?[1] == rows.first?[2], "the first and last key ranges were read at different moments: \(rows)")
    }
}

@Suite("Selection filters")
struct FilterTests {
    @Test("filters are pushed into every source engine's query", arguments: [EngineKind.postgres, .mysql, .sqlite])
    func filteredCopy(engine: EngineKind) async throws {
        let source = try TestDatabase.make(engine, label: "src")
        let target = try TestDatabase.make(.sqlite, label: "dst")
        defer { source.drop(); target.drop() }
        let prefix = engine == .postgres ? "\(source.schema)." : ""
        try source.execute("""
            CREATE TABLE \(prefix)orders (id integer PRIMARY KEY, status varchar(20), total integer);
            INSERT INTO \(prefix)orders VALUES (1, 'new', 10), (2, 'paid', 20), (3, 'paid', 30), (4, NULL, 40), (5, 'shipped', 50), (6, 'paid', 600)
            """)
        let tables = try await migrate(from: source, to: target, extraRules: """
            ,{"rule-type":"selection","rule-id":"3","rule-name":"paid-or-null","object-locator":{"schema-name":"\(source.schema)","table-name":"orders"},"rule-action":"include",
              "filters":[{"filter-type":"source","column-name":"status","filter-conditions":[{"filter-operator":"eq","value":"paid"},{"filter-operator":"null"}]},
                         {"filter-type":"source","column-name":"total","filter-conditions":[{"filter-operator":"between","start-value":"15","end-value":"100"}]}]}
            """)
        #expect(tables.first?.state == .completed, "\(tables.first?.error ?? "")")
        #expect(try target.query("SELECT id FROM orders ORDER BY id") == [["2"], ["3"], ["4"]])
    }
}
