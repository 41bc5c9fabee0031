import FerryCore
import Testing

@Suite("Checksums summed in Ferry")
struct StreamedChecksumsTests {
    static let table = ChecksumTable(
        id: TableID(schema: "app", name: "items"),
        columns: [Column(name: "id", type: .integer(bytes: 8, unsigned: false), nativeType: "bigint", nullable: false),
                  Column(name: "name", type: .text, nativeType: "text", nullable: true)],
        key: [0], hashing: .canonical)

    static func sums(_ rows: [[String?]], _ partitioning: Partitioning = .keyRanges(lower: 1, width: 10)) -> [Int64: BucketChecksum] {
        var sums = StreamedChecksums(table: table, partitioning: partitioning)
        for row in rows { row.forEach { sums.append($0) } }
        return sums.checksums
    }

    @Test("rows land in the key range the engines' SQL gives them, and their order does not matter")
    func bucketsAndOrder() {
        let rows: [[String?]] = [["1", "a"], ["10", "b"], ["11", "c"], ["25", nil]]
        let sums = Self.sums(rows)
        #expect(sums.mapValues(\.count) == [0: 2, 1: 1, 2: 1])
        #expect(Self.sums(rows.reversed()) == sums)
    }

    @Test("a value moved to another row of the same bucket, a NULL made empty, or a changed value changes the sum")
    func differencesChangeTheSum() {
        let rows: [[String?]] = [["1", "a"], ["2", "b"], ["3", nil]]
        let base = Self.sums(rows)[0]
        #expect(Self.sums([["1", "b"], ["2", "a"], ["3", nil]])[0] != base, "two rows swapping their values")
        #expect(Self.sums([["1", "a"], ["2", "b"], ["3", ""]])[0] != base, "NULL against the empty text")
        #expect(Self.sums([["1", "a\u{1F}"], ["2", "b"], ["3", nil]])[0] != base)
        #expect(Self.sums([["1", "a"], ["2", "b"], ["3", nil]])[0] == base)
    }

    @Test("hashed buckets take the MD5 of the key's text, as the engines' SQL does")
    func hashedBuckets() {
        // PostgreSQL: ('x' || left(md5('tag-0042'), 8))::bit(32)::bigint % 7; md5('tag-0042') = a2ec84d6…
        let bucket = StreamedChecksums.bucket(key: [ArraySlice("tag-0042".utf8)], .keyHash(count: 7))
        #expect(bucket == Int64(0xa2ec_84d6 % 7))
        #expect(StreamedChecksums.bucket(key: [ArraySlice("-20".utf8)], .keyRanges(lower: -25, width: 2)) == 2)
    }

    @Test("a long value is hashed as its MD5 text; key columns never are")
    func longValues() {
        let long = String(repeating: "x", count: StreamedChecksums.longValueBytes + 1)
        #expect(StreamedChecksums.capped(long).count == 32)
        #expect(StreamedChecksums.capped("short") == "short")
        #expect(Self.table.streamedColumns { column, capped in "\(column.name):\(capped)" } == ["id:false", "name:true"])
    }
}
