import FerryCore
import FerryPostgres
import Foundation
import Testing

@Suite("PostgreSQL logical replication stream")
struct PostgresChangeStreamTests {
    @Test("committed inserts, updates and deletes arrive in order, decoded, and acknowledgement advances the slot")
    func streamsCommittedChanges() async throws {
        let db = try TestDatabase.make(.postgres, label: "cdc")
        defer { db.drop() }
        try db.execute("CREATE TABLE app.items (id int PRIMARY KEY, name text, price numeric(10,2), big text)")
        let schema = TableSchema(id: TableID(schema: "app", name: "items"), engine: .postgres, columns: [
            Column(name: "id", type: .integer(bytes: 4, unsigned: false), nativeType: "integer", nullable: false),
            Column(name: "name", type: .text, nativeType: "text", nullable: true),
            Column(name: "price", type: .decimal(precision: 10, scale: 2), nativeType: "numeric(10,2)", nullable: true),
            Column(name: "big", type: .text, nativeType: "text", nullable: true),
        ], primaryKey: ["id"])
        let slot = "ferry_test_\(UUID().uuidString.prefix(8).lowercased())"
        let stream = try PostgresChangeStream(url: db.url, slot: slot, publication: slot, schemas: [schema])
        defer { try? PGConnection(db.url).execute("SELECT pg_drop_replication_slot('\(slot)')") }
        let (start, snapshot) = try stream.createSlot(tables: [schema.id])
        #expect(!snapshot.isEmpty)
        // One statement string is one transaction; these are four.
        try db.execute("INSERT INTO app.items VALUES (1, 'one', 1.50, (SELECT string_agg(md5(g::text), '') FROM generate_series(1, 1000) g)), (2, 'two', NULL, NULL)")
        try db.execute("UPDATE app.items SET price = 2 WHERE id = 1")
        try db.execute("UPDATE app.items SET id = 3 WHERE id = 2")
        try db.execute("DELETE FROM app.items WHERE id = 3")
        try stream.start(after: start)
        var transactions: [ChangeTransaction] = []
        for _ in 0..<100 where transactions.count < 4 {
            // A keepalive while nothing is pending comes up as an empty transaction (a position to record): not one of these.
            if let transaction = try stream.next(timeout: 0.2), !transaction.changes.isEmpty { transactions.append(transaction) }
        }
        #expect(transactions.count == 4)
        let changes = transactions.flatMap(\.changes)
        #expect(changes.map(\.kind) == [.insert, .insert, .update, .update, .delete])
        #expect(changes[0].values[0] == .int(1) && changes[0].values[1] == .text("one") && changes[0].values[2] == .text("1.50"))
        #expect(changes[1].values == [.int(2), .text("two"), .null, .null])
        // The unchanged TOASTed value is absent (nil), never NULL.
        #expect(changes[2].values[2] == .text("2.00") && changes[2].values[3] == nil)
        #expect(changes[3].oldValues?[0] == .int(2) && changes[3].values[0] == .int(3))
        #expect(changes[4].oldValues?[0] == .int(3))
        let positions = transactions.compactMap { LSN($0.position) }
        #expect(positions == positions.sorted() && positions.count == 4)

        try stream.acknowledge(positions.last!)
        let confirmed = try await waitForSlot(db, slot, atLeast: positions.last!)
        #expect(confirmed >= positions.last!)
    }

    @Test("a backlog read through SQL arrives whole and in commit order across slices; the walsender goes on where it ends, and a restart from an acknowledged position reads only what came after")
    func backlogReadThroughSQL() async throws {
        let db = try TestDatabase.make(.postgres, label: "backlog")
        defer { db.drop() }
        try db.execute("CREATE TABLE app.items (id int PRIMARY KEY, v int)")
        let schema = TableSchema(id: TableID(schema: "app", name: "items"), engine: .postgres, columns: [
            Column(name: "id", type: .integer(bytes: 4, unsigned: false), nativeType: "integer", nullable: false),
            Column(name: "v", type: .integer(bytes: 4, unsigned: false), nativeType: "integer", nullable: true),
        ], primaryKey: ["id"])
        let slot = "ferry_test_\(UUID().uuidString.prefix(8).lowercased())"
        defer { try? PGConnection(db.url).execute("SELECT pg_drop_replication_slot('\(slot)')") }
        var first: PostgresChangeStream? = try PostgresChangeStream(url: db.url, slot: slot, publication: slot, schemas: [schema], backlogThreshold: 0)
        let (start, _) = try first!.createSlot(tables: [schema.id])
        // Commit order differs from the order of the changes: 1 is inserted first and commits last.
        let open = try PGConnection(db.url)
        try open.execute("BEGIN; INSERT INTO app.items VALUES (1, 1)")
        try db.execute("INSERT INTO app.items VALUES (2, 2)")
        try open.execute("COMMIT")
        // 40,000 transactions of one change each: 120,000 pgoutput messages, more than one slice.
        try db.execute("DO $$ BEGIN FOR i IN 100..40099 LOOP INSERT INTO app.items VALUES (i, i); COMMIT; END LOOP; END $$")
        let backlogIDs = [2, 1] + Array(100..<40100)

        try first!.start(after: start)
        let copies = "SELECT count(*) FROM pg_replication_slots WHERE temporary AND slot_name LIKE '\(slot)_backlog_%'"
        #expect(try db.query(copies) == [["1"]], "the backlog is read from a temporary copy of the slot")
        var read: [(id: Int, position: LSN)] = []
        func readUntil(_ stream: PostgresChangeStream, count: Int) throws {
            let deadline = Date().addingTimeInterval(60)
            while read.count < count, Date() < deadline {
                guard let transaction = try stream.next(timeout: 0.2) else { continue }
                for change in transaction.changes {
                    guard case let .int(id) = change.values[0] else { continue }
                    read.append((Int(id), LSN(transaction.position)!))
                }
            }
        }
        try readUntil(first!, count: 20_000)
        // The slot is confirmed as far as the target holds, though no walsender reads it.
        let acknowledged = read[19_999].position
        try first!.acknowledge(acknowledged)
        #expect(try db.query("SELECT confirmed_flush_lsn = '\(acknowledged)' FROM pg_replication_slots WHERE slot_name = '\(slot)'") == [["t"]])
        try readUntil(first!, count: backlogIDs.count)
        #expect(Self.firstDifference(read.map(\.id), backlogIDs) == nil, "every transaction of the backlog, once, in commit order")
        #expect(zip(read, read.dropFirst()).allSatisfy { $0.position < $1.position })
        // After the backlog, the walsender: a change committed now arrives through it.
        try db.execute("INSERT INTO app.items VALUES (99, 99)")
        try readUntil(first!, count: backlogIDs.count + 1)
        #expect(read.last?.id == 99)
        #expect(try db.query("SELECT active FROM pg_replication_slots WHERE slot_name = '\(slot)'") == [["t"]])
        #expect(try await waitUntilZero(db, copies), "the copy of the slot is gone once its reader is done")

        // A restart from the acknowledged position reads, through SQL again, exactly what came after it.
        first = nil
        for _ in 0..<50 where try db.query("SELECT active FROM pg_replication_slots WHERE slot_name = '\(slot)'") != [["f"]] {
            try await Task.sleep(for: .milliseconds(100))
        }
        let expected = read.dropFirst(20_000).map(\.id)
        read = []
        let second = try PostgresChangeStream(url: db.url, slot: slot, publication: slot, schemas: [schema], backlogThreshold: 0)
        try second.start(after: acknowledged)
        try readUntil(second, count: expected.count)
        #expect(Self.firstDifference(read.map(\.id), expected) == nil)
    }

    /// Where two lists of ids first differ (the shorter one's end counts); nil when they are equal.
    private static func firstDifference(_ read: [Int], _ expected: [Int]) -> Int? {
        zip(read, expected).enumerated().first { $0.element.0 != $0.element.1 }?.offset
            ?? (read.count == expected.count ? nil : min(read.count, expected.count))
    }

    private func waitUntilZero(_ db: TestDatabase, _ count: String) async throws -> Bool {
        for _ in 0..<50 {
            if try db.query(count) == [["0"]] { return true }
            try await Task.sleep(for: .milliseconds(100))
        }
        return false
    }

    private func waitForSlot(_ db: TestDatabase, _ slot: String, atLeast lsn: LSN) async throws -> LSN {
        var confirmed = LSN.zero
        for _ in 0..<50 {
            confirmed = LSN(try db.query("SELECT confirmed_flush_lsn::text FROM pg_replication_slots WHERE slot_name = '\(slot)'")[0][0] ?? "0/0") ?? .zero
            if confirmed >= lsn { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        return confirmed
    }
}
