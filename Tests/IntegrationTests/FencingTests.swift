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
