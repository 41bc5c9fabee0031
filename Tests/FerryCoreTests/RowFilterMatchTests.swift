import FerryCore
import Foundation
import Testing

@Suite("selection filters evaluated on changes")
struct RowFilterMatchTests {
    @Test("conditions compare numbers as numbers and other values by their text; NULL passes only null")
    func conditions() {
        let range = RowFilter(column: "n", conditions: [.between("10", "20")])
        #expect(range.admits(.int(10)) == true && range.admits(.int(20)) == true && range.admits(.int(9)) == false)
        #expect(range.admits(.text("15.5")) == true, "decimals travel as text and still compare as numbers")
        #expect(range.admits(.text("9")) == false, "not compared as text, where \"9\" > \"10\"")
        #expect(range.admits(.null) == false && range.admits(nil) == nil)
        let either = RowFilter(column: "s", conditions: [.equal("paid"), .isNull])
        #expect(either.admits(.text("paid")) == true && either.admits(.null) == true && either.admits(.text("new")) == false)
        let dates = RowFilter(column: "d", conditions: [.greaterOrEqual("2024-01-01")])
        #expect(dates.admits(.text("2024-03-05")) == true && dates.admits(.text("2023-12-31")) == false)
        #expect(RowFilter(column: "x", conditions: [.notBetween("1", "5")]).admits(.uint(7)) == true)
        #expect(RowFilter(column: "x", conditions: [.notEqual("3")]).admits(.double(3)) == false)
        #expect(RowFilter(column: "x", conditions: [.lessOrEqual("0")]).admits(.bool(false)) == true)
    }

    @Test("a change outside the filters deletes its key on the target; one inside is upserted")
    func batchFollowsFilters() throws {
        let schema = TableSchema(id: TableID(schema: "app", name: "orders"), engine: .postgres,
                                 columns: [Column(name: "id", type: .integer(bytes: 4, unsigned: false), nativeType: "integer", nullable: false),
                                           Column(name: "status", type: .text, nativeType: "text", nullable: true)],
                                 primaryKey: ["id"])
        var plan = TablePlan(identity: schema)
        plan.filters = [RowFilter(column: "status", conditions: [.equal("paid")])]
        var batch = ChangeBatch(plans: [schema.id: plan])
        func change(_ kind: RowChange.Kind, _ id: Int64, _ status: String) -> RowChange {
            RowChange(table: schema.id, kind: kind, columns: ["id", "status"], values: [.int(id), .text(status)])
        }
        try batch.add(ChangeTransaction(position: "0/1", commitTime: Date(), changes: [
            change(.insert, 1, "paid"), change(.insert, 2, "new"), change(.update, 3, "refunded"),
        ]))
        let changes = try #require(batch.tables.first?.changes)
        #expect(changes.upserts == [[.int(1), .text("paid")]])
        #expect(changes.deletes == [[.int(2)], [.int(3)]], "rows outside the filter are not (or no longer) the target's")
    }

    @Test("with an operation_indicator column a delete flags the row instead of removing it; computed columns follow each change")
    func softDeletes() throws {
        let schema = TableSchema(id: TableID(schema: "app", name: "orders"), engine: .postgres,
                                 columns: [Column(name: "id", type: .integer(bytes: 4, unsigned: false), nativeType: "integer", nullable: false),
                                           Column(name: "status", type: .text, nativeType: "text", nullable: true)],
                                 primaryKey: ["id"])
        var plan = TablePlan(identity: schema)
        plan.computed = [ComputedColumn(ruleID: "5", name: "op", type: .varchar(length: 1), expression: "operation_indicator('D', 'U', 'I')"),
                         ComputedColumn(ruleID: "6", name: "loud", type: .text, expression: "upper($status)")]
        #expect(plan.softDeletes)
        var batch = ChangeBatch(plans: [schema.id: plan], transformers: [schema.id: try RowTransformer(plan: plan)])
        func change(_ kind: RowChange.Kind, _ id: Int64, _ status: String) -> RowChange {
            RowChange(table: schema.id, kind: kind, columns: ["id", "status"], values: [.int(id), .text(status)])
        }
        try batch.add(ChangeTransaction(position: "0/1", commitTime: Date(), changes: [
            change(.insert, 1, "new"), change(.update, 2, "paid"),
            RowChange(table: schema.id, kind: .delete, columns: ["id", "status"], values: [.int(3), nil], oldValues: [.int(3), nil]),
        ]))
        let changes = try #require(batch.tables.first?.changes)
        #expect(changes.deletes.isEmpty)
        #expect(changes.upserts == [[.int(1), .text("new"), .text("I"), .text("NEW")], [.int(2), .text("paid"), .text("U"), .text("PAID")],
                                    [.int(3), nil, .text("D"), nil]], "a soft delete writes the key and the flag and leaves the rest")
    }
}
