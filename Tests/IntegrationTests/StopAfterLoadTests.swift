import FerryConnectors
import FerryCore
import FerryEngine
import Foundation
import Testing

@Suite("Stopping after the full load")
struct StopAfterLoadTests {
    @Test("StopTaskCachedChangesNotApplied stops once the load is done; the next run applies every change since its snapshot",
          arguments: [EngineKind.postgres, .mysql])
    func stopThenResume(source engine: EngineKind) async throws {
        let source = try TestDatabase.make(engine, label: "src"), target = try TestDatabase.make(.postgres, label: "dst")
        defer { ChangeCaptureTests.drop(source, target) }
        let items = source.qualified("items")
        let rows = (1...500).map { "(\($0), 0)" }.joined(separator: ", ")
        try source.execute("CREATE TABLE \(items) (id int PRIMARY KEY, counter int NOT NULL);\nINSERT INTO \(items) VALUES \(rows)")
        let task = "cdc-test-\(UUID().uuidString.prefix(8).lowercased())"
        let first = try cdcRunner(source, target, task: task) { $0.stopAfterLoad = true }
        try await first.run()
        #expect(first.status.snapshot().stopReason == ReplicationRunner.stoppedAfterLoad)
        #expect(first.status.snapshot().transactionsApplied == 0)
        #expect(try target.query("SELECT count(*) FROM \(target.qualified("items"))") == [["500"]])

        try source.execute("UPDATE \(items) SET counter = 1 WHERE id <= 100")
        try source.execute("DELETE FROM \(items) WHERE id > 450")
        let second = try cdcRunner(source, target, task: task) { $0.stopAfterLoad = true }
        let running = Task { try await second.run() }
        try await converge(source, target)
        running.cancel()
        try await running.value
        #expect(second.loadStatus.snapshot().isEmpty, "the second run resumes; it does not load again")
        #expect(second.status.snapshot().stopReason == nil)
    }
}
