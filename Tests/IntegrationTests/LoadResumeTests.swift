import FerryConnectors
import FerryCore
import FerryEngine
import FerryPostgres
import Foundation
import Testing

@Suite("A full load that stopped part-way resumes by chunk")
struct LoadResumeTests {
    /// Keys 1 to `rows`, and `far`.
    static let rows = 400_000, far = 100_000_000

    /// A source whose `app.items` splits by its key into two chunks, one below `far` / 2 with every row
    /// but one, which loads slowly, and one with `far` alone, which finishes at once.
    static func source() throws -> TestDatabase {
        let source = try TestDatabase.make(.postgres, label: "src")
        try source.execute("""
            CREATE TABLE app.items (id bigint PRIMARY KEY, note text);
            INSERT INTO app.items SELECT g, md5(g::text) FROM generate_series(1, \(rows)) g;
            INSERT INTO app.items VALUES (\(far), 'far')
            """)
        return source
    }

    static func options(_ source: TestDatabase, _ target: TestDatabase) throws -> FullLoadOptions {
        var options = FullLoadOptions(mappings: try TableMappings(json: migrationRules(source, target)), parallelism: 2)
        options.chunkBytes = 1 << 20
        options.commitRows = 500
        return options
    }

    @Test("a run that takes over loads only the chunks that did not finish, after removing what the stopped one committed of them",
          arguments: [EngineKind.postgres, .mysql, .sqlite])
    func takeOverLoadsTheRest(target engine: EngineKind) async throws {
        let source = try Self.source(), target = try TestDatabase.make(engine, label: "dst")
        defer { source.drop(); target.drop() }
        let task = "load-resume-\(UUID().uuidString.prefix(8).lowercased())"
        let writer = Connectors.target(for: target.url)
        var first = try Self.options(source, target)
        first.fence = try FullLoadRunner.claim(task: task, on: writer, controlSchema: "")
        let stopped = FullLoadRunner(source: Connectors.source(for: source.url), target: writer, options: first)
        let loading = Task { try await stopped.run() }
        try await waitUntil(seconds: 120) { (stopped.status.snapshot().first?.rowsLoaded ?? 0) > Int64(Self.rows) / 3 }
        var second = try Self.options(source, target)
        second.fence = try FullLoadRunner.claim(task: task, on: writer, controlSchema: "")
        second.resume = true
        let refused = await #expect(throws: FerryError.self) { try await loading.value }
        #expect(refused?.kind == .fenced)

        let applier = try writer.openApplier(controlSchema: "")
        defer { applier.close() }
        let recorded = try #require(LoadProgress(rows: try applier.loadProgress(task: task)).table(TableID(schema: "app", name: "items")))
        #expect(recorded.segments?.count == 2 && !recorded.finished)
        #expect(recorded.loadedChunks == [1: 1], "the chunk of one row finished, the large one did not")
        let count = { try target.query("SELECT count(*) FROM \(target.qualified("items"))").first?[0].flatMap { Int($0) } ?? -1 }
        let atStop = try count()
        #expect(atStop > Self.rows / 3 && atStop < Self.rows, "part of the large chunk committed")

        // Rows changed since: the first chunk is not read again, the second is.
        try source.execute("UPDATE app.items SET note = 'changed' WHERE id IN (1, \(Self.far))")
        let resumed = FullLoadRunner(source: Connectors.source(for: source.url), target: writer, options: second)
        let tables = try await resumed.run()
        #expect(tables.map(\.state) == [.completed], "\(tables)")
        #expect(tables.first?.rowsLoaded == Int64(Self.rows + 1), "the earlier chunk's rows count with the new ones")
        #expect(try count() == Self.rows + 1)
        let notes = try target.query("SELECT id, note FROM \(target.qualified("items")) WHERE id IN (1, \(Self.far)) ORDER BY id").map { $0[1] ?? "" }
        #expect(notes.first == "changed", "the chunk that had not finished was loaded again")
        #expect(notes.last == "far", "the chunk that had finished was kept, not loaded again")
        #expect(LoadProgress(rows: try applier.loadProgress(task: task)).table(TableID(schema: "app", name: "items"))?.finished == true)
    }

    @Test("a full-load-and-cdc run stopped during its load resumes the load by chunk and then streams every change since it began")
    func replicationResumesItsLoad() async throws {
        let source = try Self.source(), target = try TestDatabase.make(.postgres, label: "dst")
        defer { source.drop(); target.drop() }
        let task = "cdc-resume-\(UUID().uuidString.prefix(8).lowercased())"
        let load: (inout FullLoadOptions) -> Void = {
            $0.parallelism = 2
            $0.chunkBytes = 1 << 20
            $0.commitRows = 500
        }
        let first = try cdcRunner(source, target, task: task, load: load)
        let running = Task { try await first.run() }
        try await waitUntil(seconds: 120) { (first.loadStatus.snapshot().first?.rowsLoaded ?? 0) > Int64(Self.rows) / 3 }
        // Changes while the load runs, and while no run does: both reach the target.
        try source.execute("UPDATE app.items SET note = 'during' WHERE id IN (2, \(Self.rows - 1))")
        running.cancel()
        _ = try? await running.value
        let table = { try target.query("SELECT 'app.items'::regclass::oid").first?[0] ?? "" }
        let oid = try table()
        try source.execute("""
            UPDATE app.items SET note = 'after' WHERE id IN (1, \(Self.far));
            DELETE FROM app.items WHERE id IN (3, \(Self.rows - 2));
            INSERT INTO app.items VALUES (\(Self.rows + 1), 'new')
            """)

        let second = try cdcRunner(source, target, task: task, load: load)
        try await runUntilConverged(second, source, target)
        #expect(try table() == oid, "the target table was kept, not dropped and loaded again")
        let resumed = try #require(second.loadStatus.snapshot().first)
        #expect(resumed.state == .completed && resumed.chunks == 2 && resumed.chunksDone == 2, "\(resumed)")
    }
}
