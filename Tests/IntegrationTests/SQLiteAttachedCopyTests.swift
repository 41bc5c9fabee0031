import FerryConnectors
import FerryCore
import FerryEngine
@testable import FerrySQLite
import Foundation
import GRDB
import Testing

@Suite("SQLite to SQLite full load by attaching the source file")
struct SQLiteAttachedCopyTests {
    static func load(_ source: TestDatabase, _ target: TestDatabase, mode: TargetTablePrepMode) async throws -> [TableProgress] {
        var options = FullLoadOptions(mappings: try TableMappings(json: """
            {"rules":[{"rule-type":"selection","rule-id":"1","rule-name":"all","object-locator":{"schema-name":"main","table-name":"%"},"rule-action":"include"}]}
            """))
        options.prepMode = mode
        return try await FullLoadRunner(source: Connectors.source(for: source.url), target: Connectors.target(for: target.url), options: options).run()
    }

    @Test("rows copy exactly into a new table, and by name into an existing one whose columns are in another order")
    func copiesByName() async throws {
        let source = try TestDatabase.make(.sqlite, label: "litesrc")
        let created = try TestDatabase.make(.sqlite, label: "litenew"), existing = try TestDatabase.make(.sqlite, label: "liteold")
        defer { source.drop(); created.drop(); existing.drop() }
        try source.execute("""
            CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT, price REAL, data BLOB);
            WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000)
            INSERT INTO items SELECT i, CASE WHEN i % 7 = 0 THEN NULL ELSE 'item ' || i END, i * 1.5, CASE WHEN i % 3 = 0 THEN x'00ff' END FROM n;
            """)
        let expected = try source.query("SELECT id, name, price, hex(data) FROM items ORDER BY id")
        let loaded = try await Self.load(source, created, mode: .dropAndCreate)
        #expect(loaded.map(\.state) == [.completed] && loaded.first?.rowsLoaded == 1000, "\(loaded.map { $0.error ?? "" })")
        #expect(try created.query("SELECT id, name, price, hex(data) FROM items ORDER BY id") == expected)
        #expect(try created.query("PRAGMA journal_mode") == [["wal"]], "the copy puts WAL mode back")

        try existing.execute("CREATE TABLE items (price REAL, data BLOB, id INTEGER PRIMARY KEY, name TEXT)")
        let into = try await Self.load(source, existing, mode: .doNothing)
        #expect(into.map(\.state) == [.completed] && into.first?.rowsLoaded == 1000, "\(into.map { $0.error ?? "" })")
        #expect(try existing.query("SELECT id, name, price, hex(data) FROM items ORDER BY id") == expected)
    }

    @Test("tables copied at once each arrive whole, whichever of them had the file to itself, and the file ends in WAL mode")
    func tablesCopiedAtOnce() async throws {
        let source = try TestDatabase.make(.sqlite, label: "litemany"), target = try TestDatabase.make(.sqlite, label: "litemanyto")
        defer { source.drop(); target.drop() }
        let tables = (1...6).map { "t\($0)" }
        for table in tables {
            try source.execute("""
                CREATE TABLE \(table) (id INTEGER PRIMARY KEY, note TEXT);
                WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 30000)
                INSERT INTO \(table) SELECT i, '\(table) ' || i FROM n;
                """)
        }
        let loaded = try await Self.load(source, target, mode: .dropAndCreate)
        #expect(loaded.count == tables.count && loaded.allSatisfy { $0.state == .completed && $0.rowsLoaded == 30000 }, "\(loaded.map { $0.error ?? "" })")
        for table in tables {
            #expect(try target.query("SELECT count(*), sum(length(note)) FROM \(table)") == source.query("SELECT count(*), sum(length(note)) FROM \(table)"))
        }
        #expect(try target.query("PRAGMA journal_mode") == [["wal"]])
    }

    @Test("a copy with the file to itself leaves WAL mode; a connection opened meanwhile waits for it to come back; one already open keeps the file in WAL")
    func copyLeavesWALOnlyAlone() async throws {
        let file = try TestDatabase.make(.sqlite, label: "litejournal")
        defer { file.drop() }
        let target = SQLiteTarget(url: file.url)
        let copying = try target.open(keepingTransactionsOpen: true)
        let left = try await copying.writeWithoutTransaction { db in
            let left = SQLiteJournalMode.leaveWAL(db)
            try db.execute(sql: "BEGIN IMMEDIATE; CREATE TABLE items (id INTEGER PRIMARY KEY); INSERT INTO items VALUES (1)")
            return left
        }
        #expect(left)
        let opened = ManagedFlag()
        let opening = Task.detached {
            defer { opened.stop() }
            return try target.open()
        }
        try await Task.sleep(for: .milliseconds(500))
        #expect(!opened.isStopped, "opening waits while the copy holds the file in rollback mode")
        try await copying.writeWithoutTransaction { db in
            try db.execute(sql: "COMMIT")
            try SQLiteJournalMode.enterWAL(db, wait: 60)
        }
        let other = try await opening.value
        let (mode, rows) = try await other.read { db in
            (try String.fetchOne(db, sql: "PRAGMA journal_mode"), try Int.fetchOne(db, sql: "SELECT count(*) FROM items"))
        }
        #expect(mode == "wal" && rows == 1)
        let started = ContinuousClock.now
        let leftAgain = try await copying.writeWithoutTransaction { db in SQLiteJournalMode.leaveWAL(db) }
        #expect(!leftAgain, "another connection has the file open")
        #expect(ContinuousClock.now - started < .seconds(5), "without waiting for it")
    }

    @Test("an idle applier (a load's journal, a stream waiting for its load) lets the file go, so that a copy may leave WAL, and opens it again at its next call")
    func idleApplierLetsTheFileGo() async throws {
        let file = try TestDatabase.make(.sqlite, label: "liteidle")
        defer { file.drop() }
        let target = SQLiteTarget(url: file.url)
        let applier = try target.openApplier(controlSchema: "main")
        defer { applier.close() }
        #expect(try applier.claim(task: "t") == 1)
        let copying = try target.open()
        let leftWhileHeld = try await copying.writeWithoutTransaction { db in SQLiteJournalMode.leaveWAL(db) }
        #expect(!leftWhileHeld, "the applier's connection holds the file")
        applier.idle()
        let leftWhileIdle = try await copying.writeWithoutTransaction { db in
            defer { try? SQLiteJournalMode.enterWAL(db, wait: 60) }
            return SQLiteJournalMode.leaveWAL(db)
        }
        #expect(leftWhileIdle)
        #expect(try applier.claim(task: "t") == 2, "the applier opens the file again and keeps its control rows")
    }
}
