import FerryConnectors
import FerryCore
import FerryEngine
import FerryMySQL
import Foundation
import Testing

@Suite("Change data capture from MySQL/MariaDB")
struct MySQLChangeCaptureTests {
    @Test("binlog capture under continuous writes: no gap, no duplicate; a restart resumes from the target's position",
          arguments: [EngineKind.postgres, .mysql, .sqlite])
    func handoverAndRestart(target engine: EngineKind) async throws {
        let source = try TestDatabase.make(.mysql, label: "binsrc"), target = try TestDatabase.make(engine, label: "dst")
        defer { source.drop(); target.drop() }
        let task = "binlog-test-\(UUID().uuidString.prefix(8).lowercased())"
        try source.execute("""
            CREATE TABLE items (id int PRIMARY KEY, counter int NOT NULL, note varchar(200), amount decimal(12,2), seen datetime(3));
            INSERT INTO items SELECT seq, 0, concat('row ', seq), seq / 100, '2024-05-06 07:08:09.123' FROM seq_1_to_20000
            """)
        let writing = ManagedFlag()
        defer { writing.stop() }
        let writer = Task { try await Self.write(source, until: writing) }
        try await Task.sleep(for: .milliseconds(200))

        let first = try cdcRunner(source, target, task: task)
        let running = Task { try await first.run() }
        defer { running.cancel() }
        try await waitUntil { first.status.snapshot().changesApplied > 100 }
        writing.stop()
        let written = try await writer.value
        try await converge(source, target)
        running.cancel()
        try await running.value
        #expect(first.loadStatus.snapshot().first?.state == .completed)
        #expect(written > 100)

        // Changes made while Ferry is stopped are applied when it starts again, without a new full load.
        try source.execute("UPDATE items SET counter = counter + 100, note = 'after restart' WHERE id % 7 = 0")
        try source.execute("DELETE FROM items WHERE id BETWEEN 500 AND 520")
        try source.execute("UPDATE items SET id = id + 1000000 WHERE id = 600")
        let second = try cdcRunner(source, target, task: task)
        try await runUntilConverged(second, source, target)
        #expect(second.loadStatus.snapshot().isEmpty, "the restart must not load the tables again")
        #expect(second.status.snapshot().changesApplied >= 2857 + 21 + 1)
        #expect(second.status.snapshot().position?.contains("gtid=") == true)
    }

    @Test("every type of the conformance table passes through binlog row events unchanged", arguments: [EngineKind.postgres, .mysql, .sqlite])
    func everyTypeThroughTheBinlog(target engine: EngineKind) async throws {
        let source = try TestDatabase.make(.mysql, label: "binsrc"), target = try TestDatabase.make(engine, label: "dst")
        let stash = try TestDatabase.make(.mysql, label: "stash")
        defer { source.drop(); target.drop(); stash.drop() }
        try TypeFixtures.create(in: stash)
        let table = "\(MySQLConnection.quote(stash.schema)).all_types"
        try source.execute("CREATE TABLE all_types LIKE \(table)")
        let replication = try cdcRunner(source, target, task: "binlog-types-\(UUID().uuidString.prefix(8).lowercased())")
        let running = Task { try await replication.run() }
        defer { running.cancel() }
        try await waitUntil { replication.status.snapshot().phase == .changeCapture }
        // Every value arrives as an insert, then as both images of updates (one moves the key), then deletes.
        try source.execute("INSERT INTO all_types SELECT * FROM \(table)")
        try source.execute("UPDATE all_types SET id = id + 10 WHERE id = 1")
        try source.execute("UPDATE all_types SET c_varchar = 'changed' WHERE id IN (2, 4)")
        try source.execute("DELETE FROM all_types WHERE id IN (3, 4)")
        try source.execute("INSERT INTO all_types SELECT * FROM \(table) WHERE id = 3")
        try await converge(source, target)
        running.cancel()
        try await running.value
        #expect(replication.status.snapshot().changesApplied >= 8)
    }

    @Test("a killed binlog dump connection is reconnected and the stream resumes without loss")
    func reconnectsAfterAKilledDump() async throws {
        let source = try TestDatabase.make(.mysql, label: "binsrc"), target = try TestDatabase.make(.postgres, label: "dst")
        defer { source.drop(); target.drop() }
        try source.execute("CREATE TABLE items (id int PRIMARY KEY, counter int NOT NULL);\nINSERT INTO items SELECT seq, 0 FROM seq_1_to_1000")
        let replication = try cdcRunner(source, target, task: "binlog-cut-\(UUID().uuidString.prefix(8).lowercased())")
        let running = Task { try await replication.run() }
        defer { running.cancel() }
        try await waitUntil { replication.status.snapshot().phase == .changeCapture }
        try source.execute("UPDATE items SET counter = 1 WHERE id <= 100")
        try await waitUntil { replication.status.snapshot().changesApplied >= 100 }
        // Kill the dump thread, as a network failure or a server restart would end it.
        let dumps = try source.query("SELECT id FROM information_schema.PROCESSLIST WHERE COMMAND LIKE 'Binlog Dump%' AND DB = \(MySQLConnection.literal(source.schema))")
        #expect(dumps.count == 1, "the task's dump connection must have been found")
        for row in dumps { try source.execute("KILL \(row[0] ?? "0")") }
        try source.execute("UPDATE items SET counter = 2 WHERE id > 900")
        try source.execute("DELETE FROM items WHERE id BETWEEN 400 AND 409")
        try await converge(source, target)
        #expect(replication.status.snapshot().changesApplied >= 210)
        running.cancel()
        try await running.value
    }

    @Test("a stored file and offset that are another place on the server than its GTIDs say (a promoted replica names its files alike) resume by GTID")
    func offsetThatDisagreesWithItsGTIDs() async throws {
        let source = try TestDatabase.make(.mysql, label: "binsrc"), target = try TestDatabase.make(.postgres, label: "dst")
        defer { source.drop(); target.drop() }
        try source.execute("CREATE TABLE items (id int PRIMARY KEY, counter int NOT NULL);\nINSERT INTO items SELECT seq, 0 FROM seq_1_to_100")
        let task = "binlog-moved-\(UUID().uuidString.prefix(8).lowercased())"
        let first = try cdcRunner(source, target, task: task)
        let running = Task { try await first.run() }
        try await waitUntil { first.status.snapshot().phase == .changeCapture }
        for round in 1...20 { try source.execute("UPDATE items SET counter = \(round) WHERE id = \(round)") }
        try await converge(source, target)
        running.cancel()
        try await running.value
        let stored = try #require(try target.query("SELECT source_position FROM public.ferry_apply_status").first?[0] ?? nil)
        let (file, rest) = (String(stored.prefix { $0 != ":" }), stored.drop { $0 != ":" }.dropFirst())
        let offset = try #require(Int(rest.prefix { $0 != " " }))
        let gtids = String(rest.drop { $0 != " " })
        #expect(gtids.hasPrefix(" gtid="), "MariaDB positions carry their GTIDs: \(stored)")
        // The same file name and the GTIDs, with the offset of a transaction up to ten commits earlier: where
        // the old position would point on a promoted replica whose binlog has the same names. (A test beside
        // this one may begin a new binlog file mid-way, leaving fewer commits before the offset in its file.)
        let ends = try source.query("SHOW BINLOG EVENTS IN \(MySQLConnection.literal(file))").filter { $0[2] == "Xid" }.compactMap { $0[4].flatMap { Int($0) } }
        let before = ends.filter { $0 < offset }
        let earlier = try #require(before.dropLast(min(9, max(0, before.count - 1))).last)
        try target.execute("UPDATE public.ferry_apply_status SET source_position = '\(file):\(earlier)\(gtids)'")
        try source.execute("UPDATE items SET counter = 99 WHERE id = 50")
        let second = try cdcRunner(source, target, task: task)
        try await runUntilConverged(second, source, target)
        #expect(second.status.snapshot().changesApplied == 1, "by file and offset the transactions after it would be applied again")
    }

    @Test("added and dropped columns reach the target; a type change suspends only its table", arguments: [EngineKind.postgres, .mysql, .sqlite])
    func columnChanges(target engine: EngineKind) async throws {
        let source = try TestDatabase.make(.mysql, label: "binsrc"), target = try TestDatabase.make(engine, label: "dst")
        defer { source.drop(); target.drop() }
        try source.execute("""
            CREATE TABLE items (id int PRIMARY KEY, counter int NOT NULL, note varchar(100));
            INSERT INTO items SELECT seq, 0, concat('row ', seq) FROM seq_1_to_1000;
            CREATE TABLE other (id int PRIMARY KEY, amount int);
            INSERT INTO other SELECT seq, seq FROM seq_1_to_10
            """)
        let replication = try cdcRunner(source, target, task: "binlog-ddl-\(UUID().uuidString.prefix(8).lowercased())")
        let running = Task { try await replication.run() }
        defer { running.cancel() }
        try await waitUntil { replication.status.snapshot().phase == .changeCapture }
        try source.execute("UPDATE other SET amount = amount + 1")
        try source.execute("ALTER TABLE items ADD COLUMN price decimal(10,2), ADD COLUMN seen datetime(3), ADD COLUMN flags set('a','b') NOT NULL DEFAULT 'a'")
        try source.execute("UPDATE items SET price = id * 1.5, seen = '2024-01-02 03:04:05.678', flags = 'a,b' WHERE id <= 100")
        try source.execute("INSERT INTO items (id, counter, note, price, seen) VALUES (5000, 1, 'new', 9.99, now(3))")
        try source.execute("ALTER TABLE items DROP COLUMN note")
        try source.execute("UPDATE items SET counter = 7 WHERE id > 900")
        try source.execute("ALTER TABLE other MODIFY amount bigint")
        try source.execute("UPDATE other SET amount = amount + 1")
        try await waitUntil { replication.status.snapshot().suspended[TableID(schema: source.schema, name: "other")] != nil }
        try await waitUntil { replication.status.snapshot().counts[TableID(schema: source.schema, name: "items")]?[.update] ?? 0 >= 200 }
        let status = replication.status.snapshot()
        running.cancel()
        try await running.value
        #expect(status.suspended[TableID(schema: source.schema, name: "other")]?.contains("amount changed type") == true)
        #expect(try target.columnNames("items") == ["id", "counter", "price", "seen", "flags"], "the target's columns follow the source's")
        let items = try await validate(source, target, extraRules: #",{"rule-type":"selection","rule-id":"3","rule-name":"x","object-locator":{"schema-name":"%","table-name":"other"},"rule-action":"exclude"}"#)
        #expect(items.count == 1 && items.allSatisfy { $0.matches }, "\(summary(items))")
    }

    @Test("a cdc run starts at a given binlog position or time and stops by itself at a commit time")
    func startAndStopPositions() async throws {
        let source = try TestDatabase.make(.mysql, label: "binsrc"), target = try TestDatabase.make(.postgres, label: "dst")
        defer { source.drop(); target.drop() }
        // A binlog file of this test's own, begun before anything below.
        try source.execute("FLUSH BINARY LOGS")
        try source.execute("CREATE TABLE items (id int PRIMARY KEY, counter int NOT NULL);\nCREATE TABLE marks (id int PRIMARY KEY)")
        let row = try #require(try source.query("SHOW MASTER STATUS").first)
        let start = "\(row[0]!):\(row[1]!)"
        try source.execute("INSERT INTO items SELECT seq, 0 FROM seq_1_to_100")
        try await Task.sleep(for: .milliseconds(1100))
        let middle = Date()
        try await Task.sleep(for: .milliseconds(1100))
        try source.execute("UPDATE items SET counter = 1 WHERE id <= 10")
        try target.execute("CREATE TABLE app.items (id int PRIMARY KEY, counter int NOT NULL); CREATE TABLE app.marks (id int PRIMARY KEY)")

        // From the position taken before the inserts, up to the update (committed after the stop time).
        let byPosition = try cdcRunner(source, target, task: "binlog-start-\(UUID().uuidString.prefix(8).lowercased())") { options in
            options.fullLoad = false
            options.start = .position(start)
            options.stop = .commitTime(middle)
        }
        try await byPosition.run()
        #expect(byPosition.status.snapshot().stopReason == "Stop Reason STOPPED_AT_COMMIT_TIME", "the run stops by itself")
        #expect(try target.query("SELECT count(*), sum(counter) FROM app.items") == [["100", "0"]],
                "the inserts before the stop time are applied, the update after it is not")

        // From a time: the binlog file begun before it is read, and what committed before the time skipped.
        try target.execute("DELETE FROM app.items")
        try await Task.sleep(for: .milliseconds(1100))
        let end = Date()
        try await Task.sleep(for: .milliseconds(1100))
        try source.execute("INSERT INTO marks VALUES (1)")
        let byTime = try cdcRunner(source, target, task: "binlog-time-\(UUID().uuidString.prefix(8).lowercased())") { options in
            options.fullLoad = false
            options.start = .time(middle)
            options.stop = .commitTime(end)
        }
        try await byTime.run()
        #expect(byTime.status.snapshot().stopReason == "Stop Reason STOPPED_AT_COMMIT_TIME")
        #expect(try target.query("SELECT count(*), sum(counter) FROM app.items") == [["10", "10"]], "only the update after the start time")
        #expect(try target.query("SELECT count(*) FROM app.marks") == [["0"]])
    }

    @Test("a 2M-row binlog transaction is applied in one target transaction: the target never shows part of it")
    func hugeTransactionIsAtomic() async throws {
        let source = try TestDatabase.make(.mysql, label: "binsrc"), target = try TestDatabase.make(.postgres, label: "dst")
        defer { source.drop(); target.drop() }
        try source.execute("CREATE TABLE items (id int PRIMARY KEY, counter int NOT NULL)")
        let replication = try cdcRunner(source, target, task: "binlog-big-\(UUID().uuidString.prefix(8).lowercased())")
        let rows = 2_000_000
        let midway = try await countsWhileApplying(replication, rows: rows, in: "\(target.schema).items", of: target) {
            try source.execute("INSERT INTO items SELECT seq, seq FROM seq_1_to_\(rows)")
        }
        #expect(midway.contains(0), "the target must have been read while the parts were applied")
        #expect(midway.allSatisfy { $0 == 0 }, "the target showed part of the transaction: \(Set(midway).sorted())")
        try await converge(source, target)
    }

    /// Inserts, updates (including key changes) and deletes, each its own transaction, until stopped.
    static func write(_ db: TestDatabase, until flag: ManagedFlag) async throws -> Int {
        try await BlockingWork.run("test-writer") {
            let conn = try MySQLConnection(db.url)
            var n = 0
            while !flag.isStopped {
                n += 1
                switch n % 4 {
                case 0: try conn.execute("INSERT INTO items VALUES (\(100_000 + n), \(n), 'new', -\(n).25, now(3))")
                case 1: try conn.execute("UPDATE items SET counter = counter + 1, note = 'updated \(n)' WHERE id = \(n % 20_000 + 1)")
                case 2: try conn.execute("DELETE FROM items WHERE id = \(100_000 + n - 2)")
                default:
                    try conn.execute("START TRANSACTION")
                    try conn.execute("UPDATE items SET counter = counter + 1 WHERE id = \(n % 500 + 1)")
                    try conn.execute("UPDATE items SET id = id + 200000 WHERE id = \(100_000 + n - 3)")
                    try conn.execute("COMMIT")
                }
            }
            return n
        }
    }
}
