import FerryCore
import FerryEngine
import Foundation
import Testing

@Suite("Tables reloaded while changes stream")
struct TableReloadTests {
    @Test("a reload while changes stream copies the table again and ends equal under continuous writes; a suspended table is applied again",
          arguments: [EngineKind.postgres, .mysql])
    func reloadWhileStreaming(target engine: EngineKind) async throws {
        let (source, target, task) = try ChangeCaptureTests.databases(target: engine)
        defer { ChangeCaptureTests.drop(source, target) }
        try source.execute("""
            CREATE TABLE app.items (id int PRIMARY KEY, counter int NOT NULL, note text, big text);
            INSERT INTO app.items SELECT g, 0, 'row ' || g, NULL FROM generate_series(1, 20000) g;
            CREATE TABLE app.other (id int PRIMARY KEY, amount int);
            INSERT INTO app.other SELECT g, g FROM generate_series(1, 10) g
            """)
        let replication = try cdcRunner(source, target, task: task)
        let running = Task { try await replication.run() }
        defer { running.cancel() }
        try await waitUntil { replication.status.snapshot().phase == .changeCapture }
        let writing = ManagedFlag()
        defer { writing.stop() }
        let writer = Task { try await ChangeCaptureTests.write(source, until: writing) }
        try await waitUntil { replication.status.snapshot().changesApplied > 100 }

        // The target loses rows behind Ferry's back, which no change would bring back; and a column type
        // change suspends the other table.
        try target.execute("DELETE FROM \(target.qualified("items")) WHERE id BETWEEN 5000 AND 5999")
        try source.execute("ALTER TABLE app.other ALTER COLUMN amount TYPE bigint")
        try source.execute("UPDATE app.other SET amount = amount + 4000000000")
        let other = TableID(schema: "app", name: "other")
        try await waitUntil { replication.status.snapshot().suspended[other] != nil }

        replication.reloads.request([TableID(schema: "app", name: "items"), other])
        try await waitUntil { replication.reloads.snapshot().finishedCount == 1 }
        #expect(replication.reloads.snapshot().finished?.snapshot().map(\.state) == [.completed, .completed])
        #expect(replication.status.snapshot().suspended.isEmpty, "a reloaded table's changes are applied again")
        try source.execute("UPDATE app.other SET amount = amount + 1 WHERE id <= 3")
        try await Task.sleep(for: .milliseconds(500))
        writing.stop()
        _ = try await writer.value
        try await converge(source, target)
        running.cancel()
        try await running.value
        #expect(replication.status.snapshot().reconnects == 0, "the stream resumed after the reload without a lost connection")
    }
}
