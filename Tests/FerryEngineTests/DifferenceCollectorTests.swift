@testable import FerryEngine
import FerryCore
import Testing

@Suite("Differences kept by validation")
struct DifferenceCollectorTests {
    static let table = ChecksumTable(id: TableID(schema: "app", name: "items"),
                                     columns: [Column(name: "id", type: .integer(bytes: 8, unsigned: false), nativeType: "bigint", nullable: false),
                                               Column(name: "name", type: .text, nativeType: "text", nullable: true)],
                                     key: [0], hashing: .canonical)

    static func rows(_ ids: some Sequence<Int>, name: String = "n") -> [CanonicalRow] {
        ids.map { [String($0), name] }
    }

    @Test("a 10,000-key gap is one run; totals per kind are exact; a cut list keeps every kind")
    func gapMissingExtraChanged() {
        var collector = DifferenceCollector(source: Self.table, target: Self.table, limit: 1000)
        // Source 1…220000 and 300000; the target lacks 200001…210000 and 300000, has 999999 extra, and 5 and 7 changed.
        for start in stride(from: 1, through: 220_000, by: 5000) {
            let ids = Array(start..<(start + 5000))
            let onTarget = ids.filter { !(200_001...210_000).contains($0) }
            collector.compare(Self.rows(ids), Self.rows(onTarget).map { $0[0] == "5" || $0[0] == "7" ? [$0[0], "changed"] : $0 })
        }
        collector.compare(Self.rows([300_000]), Self.rows([999_999]))
        #expect(collector.counts == [.missingOnTarget: 10_001, .extraOnTarget: 1, .differs: 2])
        let kept = collector.kept
        #expect(kept.count == 5)
        let gap = kept.first { $0.rows > 1 }
        #expect(gap?.key == ["200001"] && gap?.lastKey == ["210000"] && gap?.rows == 10_000 && gap?.kind == .missingOnTarget)
        #expect(kept.contains(RowDifference(kind: .missingOnTarget, key: ["300000"])))
        #expect(kept.contains(RowDifference(kind: .extraOnTarget, key: ["999999"])))
        #expect(kept.filter { $0.kind == .differs }.map(\.key) == [["5"], ["7"]])
        #expect(gap?.keys.count == 10_000 && gap?.keys.last == ["210000"])
    }

    @Test("runs found in separate fetches, in any order, are merged; keys that do not follow on stay apart")
    func runsMergeAcrossFetches() {
        var collector = DifferenceCollector(source: Self.table, target: Self.table, limit: 10)
        collector.compare(Self.rows(51...60), [])
        collector.compare(Self.rows(41...50), [])
        collector.compare(Self.rows([62]), [])
        #expect(collector.kept.map { [$0.key, $0.lastKey ?? []] } == [[["41"], ["60"]], [["62"], []]])
    }

    @Test("when the limit cuts the list, each kind found keeps a share of it")
    func fairShare() {
        var collector = DifferenceCollector(source: Self.table, target: Self.table, limit: 6)
        // 100 changed rows, every other key missing (no runs), one extra.
        collector.compare(Self.rows(1...100) + Self.rows(stride(from: 1001, through: 1199, by: 2)),
                          Self.rows(1...100, name: "x") + Self.rows([5000]))
        let kinds = collector.kept.map(\.kind)
        #expect(kinds.count == 6)
        #expect(kinds.filter { $0 == .extraOnTarget }.count == 1)
        #expect(kinds.filter { $0 == .missingOnTarget }.count >= 2 && kinds.filter { $0 == .differs }.count >= 2)
        #expect(collector.counts == [.differs: 100, .missingOnTarget: 100, .extraOnTarget: 1])
    }
}
