import FerryConnectors
import FerryCore
import FerryEngine
import FerryPostgres
import Foundation
import Testing

@Suite("Change data capture from PostgreSQL")
struct ChangeCaptureTests {
    @Test("full load and CDC under continuous writes: no gap, no duplicate; a restart resumes from the target's position",
          arguments: [EngineKind.postgres, .mysql, .sqlite])
    func handoverAndRestart(target engine: EngineKind) async throws {
        let (source, target, task) = try Self.databases(target: engine)
        defer { Self.drop(source, target) }
        try source.execute("""
            CREATE TABLE app.items (id int PRIMARY KEY, counter int NOT NULL, note text, big text);
            INSERT INTO app.items SELECT g, 0, 'row ' || g, NULL FROM generate_series(1, 20000) g;
            UPDATE app.items SET big = (SELECT string_agg(md5(g::text), '') FROM generate_series(1, 500) g) WHERE id <= 10
            """)
        let writing = ManagedFlag()
        defer { writing.stop() }
        // The writer runs during the whole full load and on into the stream.
        let writer = Task { try await Self.write(source, until: writing) }
        try await Task.sleep(for: .milliseconds(200))

        let first = try cdcRunner(source, target, task: task)
        let running = Task { try await first.run() }
        defer { running.cancel() }
        // Creating a slot waits for every open transaction on the server, and other tests share it.
        try await waitUntil { first.status.snapshot().changesApplied > 100 }
        writing.stop()
        _ = try await writer.value
        try await converge(source, target)
        running.cancel()
        try await running.value
        #expect(first.loadStatus.snapshot().first?.state == .completed)

        // Changes made while Ferry is stopped are applied when it starts again, without a new full load.
        try source.execute("UPDATE app.items SET counter = counter + 100, note = 'after restart' WHERE id % 7 = 0")
        try source.execute("DELETE FROM app.items WHERE id BETWEEN 500 AND 520")
        try source.execute("UPDATE app.items SET id = id + 1000000 WHERE id = 600")
        try source.execute("UPDATE app.items SET counter = 5 WHERE id <= 10")
        let second = try cdcRunner(source, target, task: task)
        try await runUntilConverged(second, source, target)
        #expect(second.loadStatus.snapshot().isEmpty, "the restart must not load the tables again")
        // 2,857 rows with id % 7 = 0 among the first 20,000 (and any moved row that also qualifies), 21 deletes, 1 key change, 10 updates.
        #expect(second.status.snapshot().changesApplied >= 2889)
        // The unchanged TOASTed values were kept, never overwritten with NULL.
        let big = try target.query("SELECT count(*) FROM \(target.qualified("items")) WHERE id <= 10 AND big IS NOT NULL")
        #expect(big.first?[0] == "10")
    }

    @Test("validation while CDC applies concurrent writes reports no false mismatch", arguments: [EngineKind.postgres, .mysql])
    func validationDuringChanges(target engine: EngineKind) async throws {
        let (source, target, task) = try Self.databases(target: engine)
        defer { Self.drop(source, target) }
        try source.execute("CREATE TABLE app.items (id int PRIMARY KEY, counter int NOT NULL, note text, big text); INSERT INTO app.items SELECT g, 0, 'row ' || g, NULL FROM generate_series(1, 20000) g")
        let replication = try cdcRunner(source, target, task: task)
        let running = Task { try await replication.run() }
        defer { running.cancel() }
        try await waitUntil { replication.status.snapshot().phase == .changeCapture }
        let writing = ManagedFlag()
        defer { writing.stop() }
        let writer = Task { try await Self.write(source, until: writing, pause: 0.002) }
        try await waitUntil { replication.status.snapshot().changesApplied > 100 }

        var options = ValidationOptions()
        let status = replication.status
        options.settle = { moment in try await status.waitUntilApplied(committedBefore: moment) }
        let during = try await validate(source, target, options: options)
        let written = replication.status.snapshot().changesApplied
        writing.stop()
        _ = try await writer.value
        running.cancel()
        try await running.value
        #expect(!during.isEmpty && during.allSatisfy { $0.matches }, "\(summary(during))")
        #expect(written > 100, "the writer must have been writing while validation ran")
    }

    @Test("a cut replication connection is reconnected and the stream resumes without loss")
    func reconnectsAfterACutConnection() async throws {
        let (source, target, task) = try Self.databases(target: .postgres)
        defer { Self.drop(source, target) }
        try source.execute("CREATE TABLE app.items (id int PRIMARY KEY, counter int NOT NULL, note text, big text); INSERT INTO app.items SELECT g, 0, 'row ' || g, NULL FROM generate_series(1, 1000) g")
        let replication = try cdcRunner(source, target, task: task) { options in
            options.retainedBytesWarning = 0
            options.retainedCheckSeconds = 0.2
        }
        let running = Task { try await replication.run() }
        defer { running.cancel() }
        try await waitUntil { replication.status.snapshot().phase == .changeCapture }
        try source.execute("UPDATE app.items SET counter = 1 WHERE id <= 100")
        try await waitUntil { replication.status.snapshot().changesApplied >= 100 }
        // Cut the walsender's connection, as a network failure or a server restart would.
        let slot = "ferry_" + task.replacingOccurrences(of: "-", with: "_")
        let terminated = try source.query("SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots WHERE slot_name = '\(slot)'")
        #expect(terminated == [["t"]], "the slot's walsender must have been running and been cut")
        try source.execute("UPDATE app.items SET counter = 2 WHERE id > 900")
        try source.execute("DELETE FROM app.items WHERE id BETWEEN 400 AND 409")
        try await converge(source, target)
        #expect(replication.status.snapshot().changesApplied >= 210)
        // The threshold is 0 bytes here, so the retained-WAL warning shows.
        let retained = replication.status.snapshot()
        #expect(retained.retainedBytes != nil && retained.retainedWarning?.contains("MB of log") == true)
        running.cancel()
        try await running.value
    }

    @Test("added and dropped columns reach the target; a column type change suspends only its table",
          arguments: [EngineKind.postgres, .mysql, .sqlite])
    func columnChanges(target engine: EngineKind) async throws {
        let (source, target, task) = try Self.databases(target: engine)
        defer { Self.drop(source, target) }
        try source.execute("""
            CREATE TABLE app.items (id int PRIMARY KEY, counter int NOT NULL, note text);
            INSERT INTO app.items SELECT g, 0, 'row ' || g FROM generate_series(1, 1000) g;
            CREATE TABLE app.other (id int PRIMARY KEY, amount int);
            INSERT INTO app.other SELECT g, g FROM generate_series(1, 10) g
            """)
        let replication = try cdcRunner(source, target, task: task)
        let running = Task { try await replication.run() }
        defer { running.cancel() }
        try await waitUntil { replication.status.snapshot().phase == .changeCapture }
        try source.execute("ALTER TABLE app.items ADD COLUMN price numeric(10,2), ADD COLUMN seen timestamptz, ADD COLUMN flag boolean NOT NULL DEFAULT true")
        try source.execute("UPDATE app.items SET price = id * 1.5, seen = '2024-01-02 03:04:05+00' WHERE id <= 100")
        try source.execute("INSERT INTO app.items VALUES (5000, 1, 'new', 9.99, now())")
        try source.execute("ALTER TABLE app.items DROP COLUMN note")
        try source.execute("UPDATE app.items SET counter = 7 WHERE id > 900")
        try source.execute("ALTER TABLE app.other ALTER COLUMN amount TYPE bigint")
        try source.execute("UPDATE app.other SET amount = amount + 1")
        try source.execute("UPDATE app.items SET counter = 8 WHERE id <= 5")
        try await waitUntil { replication.status.snapshot().suspended[TableID(schema: "app", name: "other")] != nil }
        try await waitUntil { replication.status.snapshot().counts[TableID(schema: "app", name: "items")]?[.update] ?? 0 >= 205 }
        let status = replication.status.snapshot()
        running.cancel()
        try await running.value
        #expect(status.suspended[TableID(schema: "app", name: "other")]?.contains("amount changed type") == true)
        #expect(status.ddls[TableID(schema: "app", name: "items")] == 4)
        let columns = try target.columnNames("items")
        #expect(columns == ["id", "counter", "price", "seen", "flag"], "the target's columns follow the source's")
        let items = try await validate(source, target, extraRules: #",{"rule-type":"selection","rule-id":"3","rule-name":"x","object-locator":{"schema-name":"app","table-name":"other"},"rule-action":"exclude"}"#)
        #expect(items.count == 1 && items.allSatisfy { $0.matches }, "\(summary(items))")
    }

    @Test("a cdc run starts at a given LSN the slot still holds, and refuses one it does not")
    func startPosition() async throws {
        let (source, target, task) = try Self.databases(target: .postgres)
        defer { Self.drop(source, target) }
        try source.execute("CREATE TABLE app.items (id int PRIMARY KEY, counter int NOT NULL, note text, big text); INSERT INTO app.items VALUES (1, 0, NULL, NULL)")
        let first = try cdcRunner(source, target, task: task)
        let running = Task { try await first.run() }
        defer { running.cancel() }
        try await waitUntil { first.status.snapshot().phase == .changeCapture }
        running.cancel()
        try await running.value
        let slot = "ferry_" + task.replacingOccurrences(of: "-", with: "_")
        let held = try #require(try source.query("SELECT confirmed_flush_lsn FROM pg_replication_slots WHERE slot_name = '\(slot)'").first?[0] ?? nil)
        try source.execute("INSERT INTO app.items SELECT g, g, 'later', NULL FROM generate_series(2, 50) g")

        let resumed = try cdcRunner(source, target, task: task) { options in
            options.fullLoad = false
            options.fresh = true
            options.start = .position(held)
        }
        try await runUntilConverged(resumed, source, target)

        let refused = try cdcRunner(source, target, task: task) { options in
            options.fullLoad = false
            options.fresh = true
            options.start = .position("0/1")
        }
        do {
            try await refused.run()
            Issue.record("a start position before the slot's must be refused")
        } catch let error as FerryError {
            #expect(error.message.contains("is before what slot \(slot) still holds"))
        }
    }

    @Test("a target that drops its connections (a restart) is reconnected and the stream resumes from its position",
          arguments: [EngineKind.postgres, .mysql])
    func reconnectsToTheTarget(target engine: EngineKind) async throws {
        let (source, target, task) = try Self.databases(target: engine)
        defer { Self.drop(source, target) }
        try source.execute("CREATE TABLE app.items (id int PRIMARY KEY, counter int NOT NULL, note text, big text); INSERT INTO app.items SELECT g, 0, NULL, NULL FROM generate_series(1, 1000) g")
        let replication = try cdcRunner(source, target, task: task)
        let running = Task { try await replication.run() }
        defer { running.cancel() }
        try await waitUntil { replication.status.snapshot().phase == .changeCapture }
        try source.execute("UPDATE app.items SET counter = 1 WHERE id <= 100")
        try await waitUntil { replication.status.snapshot().changesApplied >= 100 }
        // Every connection to the target database ends, as when the target server restarts.
        if engine == .postgres {
            let ended = try target.query("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()")
            #expect(ended.first?[0] != "0", "the applier's connection must have been cut")
        } else {
            let sessions = try target.query("SELECT id FROM information_schema.PROCESSLIST WHERE DB = '\(target.schema)' AND id <> CONNECTION_ID()")
            #expect(!sessions.isEmpty, "the applier's connection must have been cut")
            for session in sessions { try target.execute("KILL \(session[0] ?? "0")") }
        }
        try source.execute("UPDATE app.items SET counter = 2 WHERE id > 900")
        try source.execute("DELETE FROM app.items WHERE id BETWEEN 400 AND 409")
        try await converge(source, target)
        #expect(replication.status.snapshot().changesApplied >= 210)
        running.cancel()
        try await running.value
    }

    @Test("a 2M-row transaction is applied in parts in one target transaction: the target never shows part of it")
    func hugeTransactionIsAtomic() async throws {
        let (source, target, task) = try Self.databases(target: .postgres)
        defer { Self.drop(source, target) }
        try source.execute("CREATE TABLE app.items (id int PRIMARY KEY, counter int NOT NULL)")
        let replication = try cdcRunner(source, target, task: task)
        let rows = 2_000_000
        let midway = try await countsWhileApplying(replication, rows: rows, in: "\(target.schema).items", of: target) {
            try source.execute("INSERT INTO app.items SELECT g, g FROM generate_series(1, \(rows)) g")
        }
        #expect(midway.contains(0), "the target must have been read while the parts were applied")
        #expect(midway.allSatisfy { $0 == 0 }, "the target showed part of the transaction: \(Set(midway).sorted())")
        try await converge(source, target)
    }

    @Test("a run stopped inside a large source transaction commits none of it; the next run applies all of it")
    func stoppedInsideTransactionCommitsNothing() async throws {
        let (source, target, task) = try Self.databases(target: .postgres)
        defer { Self.drop(source, target) }
        try source.execute("CREATE TABLE app.items (id int PRIMARY KEY, counter int NOT NULL)")
        let first = try cdcRunner(source, target, task: task)
        let running = Task { try await first.run() }
        defer { running.cancel() }
        try await waitUntil { first.status.snapshot().phase == .changeCapture }
        let before = first.status.snapshot().changesApplied
        try source.execute("INSERT INTO app.items SELECT g, g FROM generate_series(1, 300000) g")
        let committed = try #require(try source.query("SELECT pg_current_wal_insert_lsn()").first?[0] ?? nil)
        // Stopped once the first of six parts is applied, inside the target transaction.
        try await waitUntil { first.status.snapshot().changesApplied - before >= ChangeTransaction.partSize }
        running.cancel()
        try await running.value
        #expect(first.status.snapshot().changesApplied - before < 300_000, "the run must have stopped part-way")
        #expect(try target.query("SELECT count(*) FROM app.items") == [["0"]], "a stopped run commits nothing of the transaction")
        let stored = try #require(try Connectors.target(for: target.url).openApplier(controlSchema: "").appliedPosition(task: task))
        // Keepalives may store positions inside the transaction (the server has read that far); a restart
        // from one still gets the whole transaction, which commits after it.
        #expect(try source.query("SELECT '\(stored)'::pg_lsn < '\(committed)'::pg_lsn") == [["t"]],
                "the stored position (\(stored)) stays before the transaction's commit (at most \(committed))")

        try await runUntilConverged(try cdcRunner(source, target, task: task), source, target)
        #expect(try target.query("SELECT count(*) FROM app.items") == [["300000"]])
    }

    @Test("a slot named by the endpoint is used where it stands and kept; the heartbeat writes its row")
    func namedSlotAndHeartbeat() async throws {
        let (source, target, task) = try Self.databases(target: .postgres)
        let slot = "user_" + task.replacingOccurrences(of: "-", with: "_")
        defer { Self.drop(source, target) }
        try source.execute("CREATE TABLE app.items (id int PRIMARY KEY, counter int NOT NULL, note text, big text)")
        try target.execute("CREATE TABLE app.items (id int PRIMARY KEY, counter int NOT NULL, note text, big text)")
        // As a user sets it up: the publication first (named as the slot), then the slot.
        try source.execute("CREATE PUBLICATION \(slot) FOR TABLE app.items")
        try source.execute("SELECT pg_create_logical_replication_slot('\(slot)', 'pgoutput')")
        // Written after the slot was created and before Ferry starts: the slot holds it.
        try source.execute("INSERT INTO app.items SELECT g, g, 'early', NULL FROM generate_series(1, 50) g")
        var url = source.url
        url.parameters["slot_name"] = slot
        url.parameters["heartbeat_seconds"] = "0.5"
        let named = TestDatabase(engine: .postgres, url: url, schema: source.schema)
        let replication = try cdcRunner(named, target, task: task) { $0.fullLoad = false }
        let running = Task { try await replication.run() }
        defer { running.cancel() }
        try source.execute("UPDATE app.items SET counter = 0 WHERE id <= 10")
        try await converge(source, target)
        try await waitUntil { (try? source.query("SELECT count(*) FROM public.awsdms_heartbeat")) == [["1"]] }
        running.cancel()
        try await running.value
        #expect(try source.query("SELECT count(*) FROM pg_replication_slots WHERE slot_name = '\(slot)'") == [["1"]], "the user's slot is kept")
    }

    /// A PostgreSQL source, a target of `engine` and a task name of their own.
    static func databases(target engine: EngineKind) throws -> (TestDatabase, TestDatabase, String) {
        (try TestDatabase.make(.postgres, label: "src"), try TestDatabase.make(engine, label: "dst"),
         "cdc-test-\(UUID().uuidString.prefix(8).lowercased())")
    }

    /// Drops the databases, and first the source's slots, which would keep its database from being dropped.
    /// A runner cancelled as the test ends lets go of its slot within moments: waits for that (at most 20 s).
    static func drop(_ source: TestDatabase, _ target: TestDatabase) {
        if source.engine == .postgres, let conn = try? PGConnection(source.url) {
            let deadline = Date().addingTimeInterval(20)
            while Date() < deadline,
                  (try? conn.query("SELECT 1 FROM pg_replication_slots WHERE active AND database = current_database()"))?.isEmpty == false {
                Thread.sleep(forTimeInterval: 0.2)
            }
            _ = try? conn.query("SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE NOT active AND database = current_database()")
        }
        source.drop()
        target.drop()
    }

    /// Inserts, updates (including key changes) and deletes, each its own transaction, until stopped.
    static func write(_ db: TestDatabase, until flag: ManagedFlag, pause: Double = 0) async throws -> Int {
        try await BlockingWork.run("test-writer") {
            let conn = try PGConnection(db.url)
            var n = 0
            while !flag.isStopped {
                n += 1
                if pause > 0 { Thread.sleep(forTimeInterval: pause) }
                switch n % 4 {
                case 0: try conn.execute("INSERT INTO app.items VALUES (\(100_000 + n), \(n), 'new', NULL)")
                case 1: try conn.execute("UPDATE app.items SET counter = counter + 1, note = 'updated \(n)' WHERE id = \(n % 20_000 + 1)")
                case 2: try conn.execute("DELETE FROM app.items WHERE id = \(100_000 + n - 2)")
                default: try conn.execute("BEGIN; UPDATE app.items SET counter = counter + 1 WHERE id = \(n % 500 + 1); UPDATE app.items SET id = id + 200000 WHERE id = \(100_000 + n - 3); COMMIT")
                }
            }
            return n
        }
    }
}
