import FerryCore
import FerryEngine
import Foundation
import Testing

@Suite("A capture the source lost")
struct CaptureLostTests {
    @Test("a run whose slot is gone stops with captureLost instead of starting a new slot that skips changes; a fresh start copies again")
    func droppedSlot() async throws {
        let (source, target, task) = try ChangeCaptureTests.databases(target: .postgres)
        defer { ChangeCaptureTests.drop(source, target) }
        try await Self.streamTenUpdates(source, target, task: task)
        try source.execute("SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE database = current_database()")
        try source.execute("UPDATE app.items SET counter = 2 WHERE id <= 10")
        // Without the check, the run would make a new slot and stream from the source's present.
        let lost = try await Self.refusedRun(source, target, task: task)
        #expect(lost?.message.contains("reload-target") == true, "\(String(describing: lost))")

        let fresh = try cdcRunner(source, target, task: task) { $0.fresh = true }
        try await runUntilConverged(fresh, source, target)
    }

    @Test("a run whose slot confirmed more than the target holds (a target restored from a backup) stops with captureLost; an idle stream records its position on the target before it confirms it")
    func slotAheadOfTheTarget() async throws {
        let (source, target, task) = try ChangeCaptureTests.databases(target: .postgres)
        defer { ChangeCaptureTests.drop(source, target) }
        try await Self.streamTenUpdates(source, target, task: task)

        // A resume with the slot where the target left it goes on. Idle (WAL written only outside the
        // publication), the stream records the server's WAL end on the target, then confirms it.
        let resumed = try cdcRunner(source, target, task: task)
        let resumedRun = Task { try await resumed.run() }
        try await waitUntil { resumed.status.snapshot().phase == .changeCapture }
        let stored = { try target.query("SELECT source_position FROM public.ferry_apply_status").first?[0] ?? "" }
        let before = try stored()
        try source.execute("CREATE TABLE app.unrelated (id int); INSERT INTO app.unrelated SELECT generate_series(1, 1000)")
        try await waitUntil(seconds: 40) { (try? stored()) != before }
        let confirmed = try source.query("SELECT confirmed_flush_lsn <= '\(try stored())'::pg_lsn FROM pg_replication_slots WHERE database = current_database()")
        #expect(confirmed.first?[0] == "t", "the slot never confirms past the target's stored position")
        resumedRun.cancel()
        try await resumedRun.value
        try await Self.waitForTheSlotToBeFree(source)

        // The source goes on; its slot is moved past the change, as if the target had applied it and then lost it.
        try source.execute("UPDATE app.items SET counter = 2 WHERE id <= 10")
        try source.execute("SELECT pg_replication_slot_advance(slot_name, pg_current_wal_lsn()) FROM pg_replication_slots WHERE database = current_database()")
        let lost = try await Self.refusedRun(source, target, task: task)
        #expect(lost?.message.contains("confirmed changes up to") == true, "\(String(describing: lost))")
    }

    @Test("a run tells which server it reads (system identifier and timeline), and one that would resume on another PostgreSQL cluster stops with captureLost")
    func anotherCluster() async throws {
        let (source, target, task) = try ChangeCaptureTests.databases(target: .postgres)
        defer { ChangeCaptureTests.drop(source, target) }
        try await Self.streamTenUpdates(source, target, task: task)
        let system = try source.query("SELECT system_identifier::text, timeline_id::text FROM pg_control_system(), pg_control_checkpoint()")[0]
        let seen = SourceIdentity(engine: .postgres, server: system[0] ?? "", history: system[1] ?? "")
        #expect(seen.change(since: seen) == nil)

        try source.execute("UPDATE app.items SET counter = 2 WHERE id <= 10")
        var elsewhere = seen
        elsewhere.server = "7000000000000000001"
        let lost = try await Self.refusedRun(source, target, task: task) { $0.lastSource = elsewhere }
        #expect(lost?.message.contains("another database cluster") == true, "\(String(describing: lost))")

        // After a promotion (a new timeline of the same cluster) the run goes on, and says which server it reads.
        var promoted = seen
        promoted.history = "\((Int(seen.history) ?? 1) - 1)"
        let resumed = try cdcRunner(source, target, task: task) { $0.lastSource = promoted }
        try await runUntilConverged(resumed, source, target)
        #expect(resumed.status.snapshot().source == seen)
    }

    /// A run that streams ten updates of a 100-row table, then stops with its slot let go.
    static func streamTenUpdates(_ source: TestDatabase, _ target: TestDatabase, task: String) async throws {
        try source.execute("CREATE TABLE app.items (id int PRIMARY KEY, counter int NOT NULL, note text, big text); INSERT INTO app.items SELECT g, 0, 'x', NULL FROM generate_series(1, 100) g")
        let first = try cdcRunner(source, target, task: task)
        let running = Task { try await first.run() }
        try await waitUntil { first.status.snapshot().phase == .changeCapture }
        try source.execute("UPDATE app.items SET counter = 1 WHERE id <= 10")
        try await waitUntil { first.status.snapshot().changesApplied >= 10 }
        running.cancel()
        try await running.value
        try await waitForTheSlotToBeFree(source)
    }

    static func waitForTheSlotToBeFree(_ source: TestDatabase) async throws {
        try await waitUntil { (try? source.query("SELECT 1 FROM pg_replication_slots WHERE database = current_database() AND active"))?.isEmpty == true }
    }

    /// Runs the task again and returns the captureLost it stops with; the second update (counter = 2) must not reach the target.
    static func refusedRun(_ source: TestDatabase, _ target: TestDatabase, task: String,
                           _ configure: (inout ReplicationOptions) -> Void = { _ in }) async throws -> FerryError? {
        let second = try cdcRunner(source, target, task: task, configure)
        let secondEnded = ManagedFlag()
        let secondRun = Task {
            defer { secondEnded.stop() }
            try await second.run()
        }
        try await waitUntil(seconds: 60) { secondEnded.isStopped || second.status.snapshot().phase == .changeCapture }
        secondRun.cancel()
        let lost = await #expect(throws: FerryError.self) { try await secondRun.value }
        #expect(lost?.kind == .captureLost, "\(String(describing: lost))")
        #expect(try target.query("SELECT count(*) FROM \(target.qualified("items")) WHERE counter = 2").first?[0] == "0", "nothing was applied")
        return lost
    }
}
