import FerryCore
import FerryEngine
import Foundation
import Testing

@Suite("A task taken over by a later run")
struct FencingTests {
    @Test("a second run of a task raises its epoch on the target: the first is refused at its next batch, the second resumes, the target ends equal",
          arguments: [EngineKind.postgres, .mysql, .sqlite])
    func laterRunFencesEarlierOne(target engine: EngineKind) async throws {
        let (source, target, task) = try ChangeCaptureTests.databases(target: engine)
        defer { ChangeCaptureTests.drop(source, target) }
        try source.execute("""
            CREATE TABLE app.items (id int PRIMARY KEY, counter int NOT NULL, note text, big text);
            INSERT INTO app.items SELECT g, 0, 'row ' || g, NULL FROM generate_series(1, 2000) g
            """)
        let first = try cdcRunner(source, target, task: task)
        let firstEnded = ManagedFlag()
        let firstRun = Task {
            defer { firstEnded.stop() }
            try await first.run()
        }
        defer { firstRun.cancel() }
        try await waitUntil { first.status.snapshot().phase == .changeCapture }
        let writing = ManagedFlag()
        defer { writing.stop() }
        let writer = Task { try await ChangeCaptureTests.write(source, until: writing, pause: 0.005) }
        try await waitUntil { first.status.snapshot().changesApplied > 50 }

        // The second run claims the task while the first still streams, as a restarted node would beside a paused one.
        let second = try cdcRunner(source, target, task: task)
        let secondRun = Task { try await second.run() }
        defer { secondRun.cancel() }
        try await waitUntil(seconds: 60) { firstEnded.isStopped }
        firstRun.cancel()
        let refused = await #expect(throws: FerryError.self) { try await firstRun.value }
        #expect(refused?.kind == .fenced, "\(String(describing: refused))")
        let appliedByFirst = first.status.snapshot().changesApplied
        try await waitUntil { second.status.snapshot().changesApplied > 50 }
        #expect(first.status.snapshot().changesApplied == appliedByFirst, "the first run applies nothing once refused")
        writing.stop()
        _ = try await writer.value
        try await converge(source, target)
        secondRun.cancel()
        try await secondRun.value
        #expect(second.loadStatus.snapshot().isEmpty, "the second run resumes from the target's position, without a new load")
    }

    @Test("a restart behind a backlog, read through SQL, and a later run taking the task over mid-backlog: the first run is refused, the target ends equal")
    func takeOverWhileTheBacklogIsReadThroughSQL() async throws {
        let (plain, target, task) = try ChangeCaptureTests.databases(target: .postgres)
        defer { ChangeCaptureTests.drop(plain, target) }
        var url = plain.url
        url.parameters["sql_backlog_bytes"] = "0"
        let source = TestDatabase(engine: .postgres, url: url, schema: plain.schema)
        try source.execute("""
            CREATE TABLE app.items (id int PRIMARY KEY, counter int NOT NULL, note text, big text);
            INSERT INTO app.items SELECT g, 0, 'row ' || g, NULL FROM generate_series(1, 2000) g
            """)
        let loading = try cdcRunner(source, target, task: task)
        let loadingRun = Task { try await loading.run() }
        try await waitUntil { loading.status.snapshot().phase == .changeCapture }
        loadingRun.cancel()
        try await loadingRun.value
        // A backlog of 20,000 transactions, while writes go on.
        try source.execute("DO $$ BEGIN FOR i IN 1..20000 LOOP UPDATE app.items SET counter = counter + 1 WHERE id = 1 + i % 2000; COMMIT; END LOOP; END $$")
        let writing = ManagedFlag()
        defer { writing.stop() }
        let writer = Task { try await ChangeCaptureTests.write(source, until: writing, pause: 0.005) }

        let first = try cdcRunner(source, target, task: task)
        let firstRun = Task { try await first.run() }
        defer { firstRun.cancel() }
        var copies = 0
        try await waitUntil {
            copies = max(copies, Int(try source.query("SELECT count(*) FROM pg_replication_slots WHERE temporary AND slot_name LIKE '%\\_backlog\\_%'")[0][0] ?? "0") ?? 0)
            return first.status.snapshot().changesApplied > 2000
        }
        #expect(copies == 1, "the restart reads its backlog from a temporary copy of the slot")
        let second = try cdcRunner(source, target, task: task)
        let secondRun = Task { try await second.run() }
        defer { secondRun.cancel() }
        let refused = await #expect(throws: FerryError.self) { try await firstRun.value }
        #expect(refused?.kind == .fenced, "\(String(describing: refused))")
        try await waitUntil { second.status.snapshot().changesApplied > 100 }
        writing.stop()
        _ = try await writer.value
        try await converge(source, target)
        secondRun.cancel()
        try await secondRun.value
    }
}

@Suite("A node that cannot renew its lease")
struct WriteLeaseRunTests {
    @Test("its change stream applies nothing once the lease stops writes, goes on after a renewal, and a stop ends it while it waits")
    func streamWaitsForTheLease() async throws {
        let (source, target, task) = try ChangeCaptureTests.databases(target: .postgres)
        defer { ChangeCaptureTests.drop(source, target) }
        try source.execute("CREATE TABLE app.items (id int PRIMARY KEY, note text); INSERT INTO app.items VALUES (1, 'loaded')")
        let lease = WriteLease(writesFor: 1)
        let firstRenewals = Renewals(of: lease)
        let runner = try cdcRunner(source, target, task: task) { $0.writeLease = lease }
        let run = Task { try await runner.run() }
        defer { run.cancel() }
        try await waitUntil { runner.status.snapshot().phase == .changeCapture }
        try source.execute("INSERT INTO app.items VALUES (2, 'while renewed')")
        try await converge(source, target)

        try await firstRenewals.end()
        try await waitUntil { !lease.allowsWrites() }
        let applied = runner.status.snapshot().changesApplied
        try source.execute("INSERT INTO app.items VALUES (3, 'after the lease lapsed')")
        try await Task.sleep(for: .seconds(2))
        #expect(try target.query("SELECT count(*) FROM app.items") == [["2"]], "nothing is applied without a renewal")
        #expect(runner.status.snapshot().changesApplied == applied)

        // Renewed until the held-back batch is applied: however late it reaches the applier on a busy machine.
        let laterRenewals = Renewals(of: lease)
        try await converge(source, target)
        try await laterRenewals.end()

        try await waitUntil { !lease.allowsWrites() }
        try source.execute("INSERT INTO app.items VALUES (4, 'never applied')")
        try await Task.sleep(for: .seconds(1))
        run.cancel()
        try await run.value
        #expect(try target.query("SELECT count(*) FROM app.items") == [["3"]], "a stopped run drops the batch it held back")
    }
}

/// Renews a lease every 100 ms, as a node's catalog heartbeat does, until `end()`.
private final class Renewals: Sendable {
    private let running = ManagedFlag()
    private let renewing: Task<Void, any Error>

    init(of lease: WriteLease) {
        let running = running
        self.renewing = Task {
            while !running.isStopped {
                lease.renewed(at: .now)
                try await Task.sleep(for: .milliseconds(100))
            }
        }
    }

    deinit { running.stop() }

    /// Stops renewing; the lease then lapses `writesFor` seconds after the last renewal.
    func end() async throws {
        running.stop()
        try await renewing.value
    }
}
