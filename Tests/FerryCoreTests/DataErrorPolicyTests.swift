import FerryCore
import Foundation
import Testing

@Suite("refused rows: the policy and the split of a refused batch")
struct DataErrorPolicyUnitTests {
    @Test("skipping escalates at the count, to the escalation policy; other policies never skip")
    func escalation() {
        let skip = DataErrorPolicy(action: .skipRow, escalationCount: 3, escalation: .stopTask)
        #expect(skip.action(afterSkipping: 0) == .skipRow && skip.action(afterSkipping: 1) == .skipRow)
        #expect(skip.action(afterSkipping: 2) == .stopTask, "the third refused row reaches the count")
        #expect(DataErrorPolicy(action: .skipRow).action(afterSkipping: 1_000_000) == .skipRow, "0 never escalates")
        #expect(DataErrorPolicy.suspendTable.action(afterSkipping: 0) == .suspendTable)
        #expect(DataErrorPolicy(action: .stopTask).action(afterSkipping: 0) == .stopTask)
    }

    @Test("a batch splits in halves of its merged row changes, in apply order, each with the batch's position; a truncate goes first")
    func halves() throws {
        let id = TableID(schema: "app", name: "orders")
        let schema = TableSchema(id: id, engine: .postgres,
                                 columns: [Column(name: "id", type: .integer(bytes: 4, unsigned: false), nativeType: "integer", nullable: false),
                                           Column(name: "n", type: .integer(bytes: 4, unsigned: false), nativeType: "integer", nullable: true)],
                                 primaryKey: ["id"])
        var batch = ChangeBatch(plans: [id: TablePlan(identity: schema)])
        func change(_ kind: RowChange.Kind, _ key: Int64, _ n: Int64 = 0) -> RowChange {
            RowChange(table: id, kind: kind, columns: ["id", "n"], values: [.int(key), .int(n)], oldValues: kind == .delete ? [.int(key), nil] : nil)
        }
        try batch.add(ChangeTransaction(position: "0/1", commitTime: Date(), changes: [
            RowChange(table: id, kind: .truncate, columns: [], values: []),
            change(.insert, 1, 10), change(.insert, 2, 20), change(.update, 1, 11), change(.insert, 3, 30),
        ]))
        try batch.add(ChangeTransaction(position: "0/2", commitTime: Date(), changes: [change(.delete, 2)]))
        #expect(batch.rowChangeCount == 3, "row 1's insert and update merge; row 2's insert and delete merge")
        let parts = batch.halves()
        #expect(parts.count == 2 && parts.allSatisfy { $0.position == "0/2" && !$0.endsInsideTransaction })
        let first = try #require(parts.first?.tables.first?.changes), second = try #require(parts.last?.tables.first?.changes)
        #expect(first.truncateFirst && first.deletes.isEmpty && first.upserts == [[.int(1), .int(11)]])
        #expect(!second.truncateFirst && second.deletes == [[.int(2)]] && second.upserts == [[.int(3), .int(30)]])
        let single = try #require(parts.first).halves(continuing: true)
        #expect(single.count == 1 && single[0].rowChangeCount == 1 && single[0].endsInsideTransaction, "one row change comes back whole")
    }
}
