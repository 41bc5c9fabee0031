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
        try await runUntilConverged(second, source, target)
        #expect(second.loadStatus.snapshot().isEmpty, "the second run resumes; it does not load again")
        #expect(second.status.snapshot().stopReason == nil)
    }
}

@Suite("Primary keys created after the load")
struct PrimaryKeyAfterLoadTests {
    @Test("CreatePkAfterFullLoad creates the table without its key and adds it once the rows are in",
          arguments: [EnginePair(source: .postgres, target: .postgres), EnginePair(source: .postgres, target: .mysql),
                      EnginePair(source: .mysql, target: .sqlite)])
    func keyAfterLoad(pair: EnginePair) async throws {
        let source = try TestDatabase.make(pair.source, label: "src"), target = try TestDatabase.make(pair.target, label: "dst")
        defer { source.drop(); target.drop() }
        let orders = source.qualified("orders")
        try source.execute("CREATE TABLE \(orders) (id int, region varchar(10), total int, PRIMARY KEY (region, id));\nINSERT INTO \(orders) VALUES (1, 'eu', 5), (1, 'us', 7), (2, 'eu', 9)")
        let tables = try await migrate(from: source, to: target) { $0.primaryKeyAfterLoad = true }
        #expect(tables.allSatisfy { $0.state == .completed }, "\(tables.map { $0.error ?? "" })")
        #expect(try target.primaryKeyColumns("orders") == ["region", "id"])
        #expect(try target.query("SELECT count(*) FROM \(target.qualified("orders"))") == [["3"]])
    }
}

@Suite("Stopping after the changes made during the load")
struct StopAfterCachedChangesTests {
    @Test("StopTaskCachedChangesApplied stops by itself while writes go on; the next run loses nothing")
    func stopAfterCachedChanges() async throws {
        let source = try TestDatabase.make(.postgres, label: "src"), target = try TestDatabase.make(.postgres, label: "dst")
        defer { ChangeCaptureTests.drop(source, target) }
        try source.execute("CREATE TABLE app.items (id int PRIMARY KEY, counter int NOT NULL, note text, big text); INSERT INTO app.items SELECT g, 0, 'row ' || g, NULL FROM generate_series(1, 20000) g")
        let task = "cdc-test-\(UUID().uuidString.prefix(8).lowercased())"
        let writing = ManagedFlag()
        defer { writing.stop() }
        let writer = Task { try await ChangeCaptureTests.write(source, until: writing) }
        let first = try cdcRunner(source, target, task: task) { $0.stopAfterCachedChanges = true }
        try await first.run()
        #expect(first.status.snapshot().stopReason == ReplicationRunner.stoppedAfterCachedChanges)
        writing.stop()
        #expect(try await writer.value > 0)

        let second = try cdcRunner(source, target, task: task)
        try await runUntilConverged(second, source, target)

        // With nothing written during the load, the run stops once the stream has been idle for a moment.
        let quiet = try cdcRunner(source, target, task: task) { $0.fresh = true; $0.stopAfterCachedChanges = true }
        try await quiet.run()
        #expect(quiet.status.snapshot().stopReason == ReplicationRunner.stoppedAfterCachedChanges)
    }
}
