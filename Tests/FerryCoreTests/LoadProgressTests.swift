import FerryCore
import Testing

@Suite("Full-load progress and key splits")
struct LoadProgressTests {
    @Test("an even split of a key gives count ranges that cover every value once, with no NULL segment")
    func evenSplit() {
        let split = RangeSegments.evenSplit(column: "id", low: 1, high: 1_000_000, count: 4)
        #expect(split.boundaries == [["250001"], ["500001"], ["750001"]])
        #expect(!split.nullSegment && split.count == 4)
        #expect(split.predicates(quote: { $0 }, literal: { $0 }) == [
            "id IS NOT NULL AND ((id < 250001))",
            "id IS NOT NULL AND NOT ((id < 250001)) AND ((id < 500001))",
            "id IS NOT NULL AND NOT ((id < 500001)) AND ((id < 750001))",
            "id IS NOT NULL AND NOT ((id < 750001))",
        ])
        #expect(RangeSegments.evenSplit(column: "id", low: 1, high: 3, count: 8).count == 3, "no empty ranges past the highest value")
        #expect(RangeSegments.evenSplit(column: "id", low: .min, high: .max, count: 2).count == 1, "a span that overflows is not split")
    }

    @Test("a segment's condition on the target uses the target's names for the columns")
    func targetPredicate() throws {
        let table = TableSchema(id: TableID(schema: "app", name: "items"), engine: .postgres,
                                columns: [.init(name: "id", type: .integer(bytes: 8, unsigned: false), nativeType: "bigint", nullable: false)], primaryKey: ["id"])
        var plan = try TableMappings.includeAll.plan(for: table)
        plan.columns[0].targetName = "item_id"
        let split = RangeSegments.evenSplit(column: "id", low: 1, high: 100, count: 2)
        #expect(try split.targetPredicate(1, in: plan, quote: { "`\($0)`" }, literal: { $0 }) == "`item_id` IS NOT NULL AND NOT ((`item_id` < 51))")
        #expect(throws: FerryError.self) { try split.targetPredicate(2, in: plan, quote: { $0 }, literal: { $0 }) }
    }

    @Test("the rows a target keeps read back as the load's start, each table's split, its finished chunks and whether it finished")
    func rowsRoundTrip() {
        let items = TableID(schema: "app", name: "items"), notes = TableID(schema: "app", name: "notes")
        let split = RangeSegments.evenSplit(column: "id", low: 1, high: 100, count: 2)
        let progress = LoadProgress(rows: [
            LoadProgress.startRow("0/16B3748"),
            LoadProgress.tableRow(items, segments: split, finished: false),
            LoadProgress.chunkRow(items, chunk: 1, rows: 50),
            LoadProgress.tableRow(notes, segments: nil, finished: true),
            LoadProgress.chunkRow(TableID(schema: "app", name: "gone"), chunk: 0, rows: 5),
            LoadProgressRow(table: LoadProgress.key(of: items), chunk: 0, detail: "not a count"),
        ])
        #expect(progress.startPosition == "0/16B3748")
        #expect(progress.table(items)?.segments == split)
        #expect(progress.table(items)?.loadedChunks == [1: 50], "a chunk row that cannot be read loads again")
        #expect(progress.table(items)?.finished == false)
        #expect(progress.table(notes)?.finished == true)
        #expect(progress.tables.count == 2, "chunks of a table with no split recorded are ignored")
        #expect(LoadProgress(rows: [LoadProgress.startRow(nil)]).startPosition == nil)
    }
}

@Suite("Source identity")
struct SourceIdentityTests {
    @Test("a new timeline or server_id is a failover, another PostgreSQL system identifier another cluster, a moved GTID nothing")
    func changes() {
        let pg = SourceIdentity(engine: .postgres, server: "7312", history: "1")
        var promoted = pg
        promoted.history = "2"
        var other = pg
        other.server = "9999"
        #expect(pg.change(since: pg) == nil)
        #expect(promoted.change(since: pg) == .failover("the source's timeline went from 1 to 2: a standby was promoted"))
        guard case .unrelated? = other.change(since: pg) else { Issue.record("another cluster is unrelated"); return }
        let maria = SourceIdentity(engine: .mysql, server: "1", history: "0-1-10")
        var written = maria
        written.history = "0-1-99"
        var replica = written
        replica.server = "2"
        #expect(written.change(since: maria) == nil)
        #expect(replica.change(since: maria) == .failover("the source's server_id went from 1 to 2: another server (a promoted replica) answers now"))
    }
}
