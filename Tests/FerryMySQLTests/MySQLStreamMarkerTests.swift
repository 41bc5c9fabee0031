import FerryCore
@testable import FerryMySQL
import Foundation
import Testing

@Suite struct MySQLStreamMarkerTests {
    @Test func aMarkerRowBecomesTheTransactionsMarkerAndLeavesItsChanges() {
        let order = RowChange(table: TableID(schema: "shop", name: "orders"), kind: .insert, columns: ["id"], values: [.int(1)])
        let marker = RowChange(table: MySQLStreamMarkers.table, kind: .update, columns: ["task", "marker"],
                               values: [.text("orders-1"), .text("stop orders-1 abc")], oldValues: [.text("orders-1"), .text("sync orders-1 x")])
        let read = MySQLStreamMarkers.extract(ChangeTransaction(position: "binlog.000002:900", commitTime: Date(), changes: [order, marker]))
        #expect(read.marker == StreamMarker(.stop, task: "orders-1", cutover: "abc"))
        #expect(read.changes == [order])
        #expect(MySQLStreamMarkers.extract(ChangeTransaction(position: "binlog.000002:950", commitTime: Date(), changes: [order])).marker == nil)
    }

    @Test func binlogPositionsCompareByFileThenOffset() throws {
        let position = try #require(BinlogPosition("binlog.000003:1234 gtid=0-1-11"))
        #expect(position.covers(try #require(BinlogPosition("binlog.000003:1234"))))
        #expect(position.covers(try #require(BinlogPosition("binlog.000002:99999"))))
        #expect(!position.covers(try #require(BinlogPosition("binlog.000003:1235"))))
        #expect(!position.covers(try #require(BinlogPosition("binlog.000010:4"))))
    }
}
