import FerryCore
import FerryEngine
import Foundation
import Testing

/// ErrorBehavior.DataErrorPolicy: rows a target refuses (here, by a CHECK constraint on a table the user
/// created) are left out and recorded, or fail the table, or stop the task.
@Suite("Rows the target refuses")
struct DataErrorPolicyTests {
    /// 2,000 rows; ids 7, 500 and 1,999 carry a negative amount, which the target's CHECK refuses.
    static let refusedIDs = [7, 500, 1999]

    static func createOrders(source: TestDatabase, target: TestDatabase) throws {
        let rows = (1...2000).map { id in "(\(id), \(refusedIDs.contains(id) ? -id : id), 'n\(id)')" }.joined(separator: ", ")
        try source.execute("CREATE TABLE \(source.qualified("orders")) (id int PRIMARY KEY, amount int NOT NULL, note varchar(20))")
        try source.execute("INSERT INTO \(source.qualified("orders")) VALUES \(rows)")
        try target.execute("CREATE TABLE \(target.qualified("orders")) (id int PRIMARY KEY, amount int NOT NULL CHECK (amount >= 0), note varchar(20))")
    }

    /// Rows of `awsdms_apply_exceptions` (in the engine's default control schema) recorded for `task`.
    static func exceptions(in target: TestDatabase, task: String) throws -> [[String?]] {
        let table, name: String
        switch target.engine {
        case .postgres: (table, name) = ("public.awsdms_apply_exceptions", "\"TASK_NAME\"")
        case .mysql: (table, name) = ("awsdms_control.awsdms_apply_exceptions", "TASK_NAME")
        case .sqlite: (table, name) = ("awsdms_apply_exceptions", "TASK_NAME")
        }
        let columns = target.engine == .postgres ? "\"TABLE_NAME\", \"STATEMENT\", \"ERROR\"" : "TABLE_NAME, STATEMENT, ERROR"
        return try target.query("SELECT \(columns) FROM \(table) WHERE \(name) = '\(task)'")
    }

    @Test("LOG_ERROR leaves refused rows out of the load and of CDC, records each, and applies the rest",
          arguments: [EnginePair(source: .postgres, target: .postgres), EnginePair(source: .postgres, target: .mysql),
                      EnginePair(source: .mysql, target: .sqlite)])
    func logError(pair: EnginePair) async throws {
        let source = try TestDatabase.make(pair.source, label: "src"), target = try TestDatabase.make(pair.target, label: "dst")
        defer { ChangeCaptureTests.drop(source, target) }
        try Self.createOrders(source: source, target: target)
        let task = "cdc-test-\(UUID().uuidString.prefix(8).lowercased())"
        let runner = try cdcRunner(source, target, task: task, load: {
            $0.prepMode = .doNothing
            $0.dataErrors = DataErrorPolicy(action: .skipRow, recordsSkippedRows: true)
            $0.taskName = task
        })
        let running = Task { try await runner.run() }
        defer { running.cancel() }
        try await waitUntil { runner.status.snapshot().phase == .changeCapture }
        let loaded = try #require(runner.loadStatus.snapshot().first)
        #expect(loaded.state == .completed, "\(loaded.error ?? "")")
        #expect(loaded.skippedRows == 3)
        #expect(loaded.rowsLoaded == 1997)
        #expect(loaded.warnings.contains { $0.contains("3 rows") && $0.contains("awsdms_apply_exceptions") }, "\(loaded.warnings)")
        let orders = target.qualified("orders")
        #expect(try target.query("SELECT count(*), sum(amount) FROM \(orders)") == [["1997", String((1...2000).reduce(0, +) - Self.refusedIDs.reduce(0, +))]])
        let recorded = try Self.exceptions(in: target, task: task)
        #expect(recorded.count == 3)
        #expect(recorded.allSatisfy { $0[0] == "orders" && ($0[1] ?? "").contains("\"amount\": \"-") && !($0[2] ?? "").isEmpty }, "\(recorded)")

        // In CDC: one refused insert and one refused update among good changes, in one transaction.
        let sourceOrders = source.qualified("orders")
        try source.execute("""
            BEGIN;
            INSERT INTO \(sourceOrders) VALUES (3001, 1, 'good');
            INSERT INTO \(sourceOrders) VALUES (3002, -1, 'bad');
            UPDATE \(sourceOrders) SET amount = -5 WHERE id = 1;
            UPDATE \(sourceOrders) SET note = 'changed' WHERE id = 2;
            COMMIT
            """.replacingOccurrences(of: "BEGIN;", with: pair.source == .mysql ? "START TRANSACTION;" : "BEGIN;"))
        try source.execute("INSERT INTO \(sourceOrders) VALUES (3003, 3, 'after')")
        try await waitForRow(target, "SELECT note FROM \(orders) WHERE id = 3003", equals: "after")
        #expect(try target.query("SELECT id, amount, note FROM \(orders) WHERE id IN (1, 2, 3001, 3002) ORDER BY id")
                == [["1", "1", "n1"], ["2", "2", "changed"], ["3001", "1", "good"]])
        // The refused rows are recorded once their batch is through, which may be just after row 3003 lands.
        try await waitUntil { (try? Self.exceptions(in: target, task: task).count) == 5 }

        // A source transaction of three parts with a refused row in the second: the rest commit together.
        let series = pair.source == .mysql ? "SELECT seq AS g FROM seq_10001_to_130000" : "SELECT generate_series(10001, 130000) AS g"
        try source.execute("INSERT INTO \(sourceOrders) SELECT g, CASE WHEN g = 70000 THEN -1 ELSE 1 END, 'big' FROM (\(series)) s")
        try await waitUntil { (try? target.query("SELECT count(*) FROM \(orders) WHERE note = 'big'")) == [["119999"]] }
        try await waitUntil { (try? Self.exceptions(in: target, task: task).count) == 6 }
        #expect(try target.query("SELECT count(*) FROM \(orders) WHERE id = 70000") == [["0"]])
        running.cancel()
        try await running.value
    }

    @Test("IGNORE_RECORD only counts; SUSPEND_TABLE fails the table; STOP_TASK and an escalation stop or fail as set")
    func otherPolicies() async throws {
        let source = try TestDatabase.make(.postgres, label: "src"), target = try TestDatabase.make(.postgres, label: "dst")
        defer { source.drop(); target.drop() }
        try Self.createOrders(source: source, target: target)
        let orders = target.qualified("orders")

        let ignored = try await migrate(from: source, to: target, prepMode: .doNothing) {
            $0.dataErrors = DataErrorPolicy(action: .skipRow, recordsSkippedRows: false)
            $0.taskName = "ignore-record"
        }
        #expect(ignored.first?.state == .completed && ignored.first?.skippedRows == 3)
        #expect(try target.query("SELECT count(*) FROM \(orders)") == [["1997"]])
        #expect(((try? Self.exceptions(in: target, task: "ignore-record")) ?? []).isEmpty, "IGNORE_RECORD records nothing")

        try target.execute("TRUNCATE \(orders)")
        let suspended = try await migrate(from: source, to: target, prepMode: .doNothing)
        #expect(suspended.first?.state == .failed)
        #expect(suspended.first?.error?.contains("amount") == true, "\(suspended.first?.error ?? "")")

        try target.execute("TRUNCATE \(orders)")
        let escalated = try await migrate(from: source, to: target, prepMode: .doNothing) {
            $0.dataErrors = DataErrorPolicy(action: .skipRow, escalationCount: 2)
        }
        #expect(escalated.first?.state == .failed)
        #expect(escalated.first?.error?.contains("DataErrorEscalationCount 2") == true, "\(escalated.first?.error ?? "")")

        try target.execute("TRUNCATE \(orders)")
        await #expect(throws: FerryError.self) {
            _ = try await migrate(from: source, to: target, prepMode: .doNothing) { $0.dataErrors = DataErrorPolicy(action: .stopTask) }
        }
    }
}

@Suite("CommitRate")
struct CommitRateTests {
    @Test("with CommitRate each target transaction holds at most that many rows; without, a chunk is one COPY")
    func commitRate() async throws {
        let source = try TestDatabase.make(.postgres, label: "src"), target = try TestDatabase.make(.postgres, label: "dst")
        defer { source.drop(); target.drop() }
        try source.execute("CREATE TABLE app.items (id int PRIMARY KEY, note text); INSERT INTO app.items SELECT g, 'n' || g FROM generate_series(1, 2500) g")
        let split = try await migrate(from: source, to: target) { $0.commitRows = 1000 }
        #expect(split.first?.state == .completed && split.first?.rowsLoaded == 2500 && split.first?.passthrough == false)
        #expect(try target.query("SELECT count(*), count(DISTINCT xmin::text) FROM app.items") == [["2500", "3"]], "1,000 + 1,000 + 500 rows")
        let whole = try await migrate(from: source, to: target)
        #expect(whole.first?.passthrough == true)
        #expect(try target.query("SELECT count(*), count(DISTINCT xmin::text) FROM app.items") == [["2500", "1"]])
        // MySQL commits each statement, SQLite each write: both cut them at CommitRate rows.
        for engine in [EngineKind.mysql, .sqlite] {
            let other = try TestDatabase.make(engine, label: "dst")
            defer { other.drop() }
            let loaded = try await migrate(from: source, to: other) { $0.commitRows = 999 }
            #expect(loaded.first?.state == .completed, "\(loaded.first?.error ?? "")")
            #expect(try other.query("SELECT count(*), sum(id) FROM \(other.qualified("items"))") == [["2500", "3126250"]])
        }
    }
}
