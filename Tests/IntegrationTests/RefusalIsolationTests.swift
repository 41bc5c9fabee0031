@testable import FerryEngine
import FerryCore
import Testing

@Suite("isolating the rows a target refuses")
struct RefusalIsolationTests {
    @Test("refused items end up alone and reported; good ones go in groups; other errors end the work")
    func isolates() throws {
        var applied: [[Int]] = []
        var refused: [Int] = []
        let bad: Set = [3, 4, 11]
        try RefusalIsolation.apply(Array(0..<16)[...], { group in
            if group.contains(where: bad.contains) { throw FerryError(.dataError, "refused") }
            applied.append(Array(group))
        }, refused: { item, error in
            #expect(error.message == "refused")
            refused.append(item)
        })
        #expect(refused == [3, 4, 11])
        #expect(applied.flatMap { $0 }.sorted() == Array(0..<16).filter { !bad.contains($0) })
        #expect(applied.count < 16 - bad.count, "good items were applied in groups, not one by one")
        #expect(throws: FerryError.self) {
            try RefusalIsolation.apply([1, 2][...], { _ in throw FerryError(.connectionFailed, "gone") }, refused: { _, _ in })
        }
    }

    @Test("skipping counts and keeps LOG_ERROR records, then escalates at the count")
    func skippedRows() throws {
        var rows = SkippedRows(policy: DataErrorPolicy(action: .skipRow, escalationCount: 3), table: TableID(schema: "app", name: "t"))
        try rows.skip("{\"id\": \"1\"}", FerryError(.dataError, "check"))
        try rows.skip("{\"id\": \"2\"}", FerryError(.dataError, "check"))
        #expect(rows.count == 2 && rows.takeRecords().map(\.row) == ["{\"id\": \"1\"}", "{\"id\": \"2\"}"] && rows.records.isEmpty)
        #expect(throws: DataErrorEscalation.self) { try rows.skip("{\"id\": \"3\"}", FerryError(.dataError, "check")) }
        var ignoring = SkippedRows(policy: DataErrorPolicy(action: .skipRow, recordsSkippedRows: false), table: TableID(schema: "app", name: "t"))
        try ignoring.skip("{}", FerryError(.dataError, "check"))
        #expect(ignoring.count == 1 && ignoring.records.isEmpty, "IGNORE_RECORD only counts")
    }
}
