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
