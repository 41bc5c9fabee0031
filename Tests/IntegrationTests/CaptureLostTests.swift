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
        try source.execute("CREATE TABLE app.items (id int PRIMARY KEY, counter int NOT NULL, note text, big text); INSERT INTO app.items SELECT g, 0, 'x', NULL FROM generate_series(1, 100) g")
        let first = try cdcRunner(source, target, task: task)
        let running = Task { try await first.run() }
        try await waitUntil { first.status.snapshot().phase == .changeCapture }
        try source.execute("UPDATE app.items SET counter = 1 WHERE id <= 10")
        try await waitUntil { first.status.snapshot().changesApplied >= 10 }
        running.cancel()
        try await running.value
        try await waitUntil { (try? source.query("SELECT 1 FROM pg_replication_slots WHERE database = current_database() AND active"))?.isEmpty == true }
        try source.execute("SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE database = current_database()")
        try source.execute("UPDATE app.items SET counter = 2 WHERE id <= 10")

        let second = try cdcRunner(source, target, task: task)
        let secondEnded = ManagedFlag()
        let secondRun = Task {
            defer { secondEnded.stop() }
            try await second.run()
        }
        // Without the check, the run would make a new slot and stream from the source's present.
        try await waitUntil(seconds: 60) { secondEnded.isStopped || second.status.snapshot().phase == .changeCapture }
        secondRun.cancel()
        let lost = await #expect(throws: FerryError.self) { try await secondRun.value }
        #expect(lost?.kind == .captureLost && lost?.message.contains("reload-target") == true, "\(String(describing: lost))")
        #expect(try target.query("SELECT count(*) FROM \(target.qualified("items")) WHERE counter = 2").first?[0] == "0", "nothing was applied")

        let fresh = try cdcRunner(source, target, task: task) { $0.fresh = true }
        try await runUntilConverged(fresh, source, target)
    }
}
