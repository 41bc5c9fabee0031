import FerryCore
import Testing

@Suite("column changes read from a log's table descriptions")
struct ColumnDiffTests {
    static func shape(_ columns: [(String, String)]) -> [ColumnDiff.Shape] {
        columns.map { ColumnDiff.Shape(name: $0.0, type: $0.1) }
    }

    static let before = shape([("id", "int4"), ("a", "text"), ("b", "text")])

    @Test("a later description is compared with the one before: added, dropped, renamed, retyped")
    func laterDescriptions() {
        let known = ["id", "a", "b"]
        let added = ColumnDiff(Self.shape([("id", "int4"), ("a", "text"), ("b", "text"), ("c", "numeric")]), known: known, previous: Self.before)
        #expect(added.added == ["c"] && added.dropped.isEmpty && added.unsupported.isEmpty)
        let dropped = ColumnDiff(Self.shape([("id", "int4"), ("b", "text")]), known: known, previous: Self.before)
        #expect(dropped.dropped == ["a"] && dropped.added.isEmpty && dropped.unsupported.isEmpty)
        let renamed = ColumnDiff(Self.shape([("id", "int4"), ("alpha", "text"), ("b", "text")]), known: known, previous: Self.before)
        #expect(renamed.unsupported == ["column a renamed to alpha"] && renamed.dropped.isEmpty && renamed.added.isEmpty)
        let retyped = ColumnDiff(Self.shape([("id", "int8"), ("a", "text"), ("b", "text")]), known: known, previous: Self.before)
        #expect(retyped.unsupported == ["column id changed type"])
        #expect(ColumnDiff(Self.before, known: known, previous: Self.before).isEmpty)
    }

    @Test("the first description only adds: an older shape replayed after a restart never drops a column")
    func firstDescription() {
        #expect(ColumnDiff(Self.shape([("id", "int4"), ("a", "text")]), known: ["id", "a", "b"], previous: nil).isEmpty)
        let newer = ColumnDiff(Self.shape([("id", "int4"), ("a", "text"), ("b", "text"), ("c", "bool")]), known: ["id", "a", "b"], previous: nil)
        #expect(newer.added == ["c"] && newer.dropped.isEmpty)
    }
}
