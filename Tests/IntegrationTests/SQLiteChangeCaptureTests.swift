import FerryConnectors
import FerryCore
import FerryEngine
import Foundation
import GRDB
import Testing

@Suite("Change data capture from SQLite")
struct SQLiteChangeCaptureTests {
    @Test("trigger capture under continuous writes: no gap, no duplicate; a restart resumes; the change table is emptied",
          arguments: [EngineKind.postgres, .mysql, .sqlite])
    func handoverAndRestart(target engine: EngineKind) async throws {
        let source = try TestDatabase.make(.sqlite, label: "litesrc"), target = try TestDatabase.make(engine, label: "dst")
        defer { source.drop(); target.drop() }
        try source.execute("""
            PRAGMA journal_mode = WAL;
            CREATE TABLE items (id INTEGER PRIMARY KEY, counter INTEGER NOT NULL, note TEXT, data BLOB);
            WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < 5000)
            INSERT INTO items SELECT n, 0, 'row ' || n, x'00ff' FROM g;
            """)
        let task = "lite-\(UUID().uuidString.prefix(8).lowercased())"
        let writing = ManagedFlag()
        defer { writing.stop() }
        let writer = Task { try await Self.write(source, until: writing) }
        let first = try cdcRunner(source, target, task: task)
        let running = Task { try await first.run() }
        defer { running.cancel() }
        try await waitUntil { first.status.snapshot().changesApplied > 100 }
        writing.stop()
        #expect(try await writer.value > 100)
        try await converge(source, target)
        running.cancel()
        try await running.value
        #expect(first.loadStatus.snapshot().first?.state == .completed)

        // Changes made while Ferry is stopped, including a key change and a row deleted after an update.
        try source.execute("UPDATE items SET counter = counter + 100, note = 'after restart' WHERE id % 7 = 0")
        try source.execute("UPDATE items SET id = 900000 WHERE id = 600")
        try source.execute("UPDATE items SET note = 'gone soon' WHERE id = 700; DELETE FROM items WHERE id = 700")
        let second = try cdcRunner(source, target, task: task)
        let resumed = Task { try await second.run() }
        defer { resumed.cancel() }
        try await converge(source, target)
        #expect(second.loadStatus.snapshot().isEmpty, "the restart must not load the tables again")
        // Removal waits only briefly for the file (another connection closing holds it), so it is retried at each poll.
        let changeTable = "ferry_changes_\(task.replacingOccurrences(of: "-", with: "_"))"
        try await waitUntil(seconds: 30) { try source.query("SELECT count(*) FROM \(changeTable)") == [["0"]] }
        resumed.cancel()
        try await resumed.value
    }

    /// Inserts, updates (including key changes) and deletes, each its own transaction, until stopped.
    static func write(_ db: TestDatabase, until flag: ManagedFlag) async throws -> Int {
        try await BlockingWork.run("test-writer") {
            var configuration = Configuration()
            configuration.busyMode = .timeout(60)
            let queue = try DatabaseQueue(path: db.url.database!, configuration: configuration)
            var n = 0
            while !flag.isStopped {
                n += 1
                try queue.write { conn in
                    switch n % 4 {
                    case 0: try conn.execute(sql: "INSERT INTO items VALUES (?, ?, 'new', x'01')", arguments: [100_000 + n, n])
                    case 1: try conn.execute(sql: "UPDATE items SET counter = counter + 1, note = ? WHERE id = ?", arguments: ["updated \(n)", n % 5000 + 1])
                    case 2: try conn.execute(sql: "DELETE FROM items WHERE id = ?", arguments: [100_000 + n - 2])
                    default:
                        try conn.execute(sql: "UPDATE items SET counter = counter + 1 WHERE id = ?", arguments: [n % 500 + 1])
                        try conn.execute(sql: "UPDATE items SET id = id + 200000 WHERE id = ?", arguments: [100_000 + n - 3])
                    }
                }
                Thread.sleep(forTimeInterval: 0.001)
            }
            return n
        }
    }
}
