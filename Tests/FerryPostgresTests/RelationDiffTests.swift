@testable import FerryPostgres
import Testing

@Suite("column changes read from relation messages")
struct RelationDiffTests {
    static func relation(_ columns: [(String, UInt32)]) -> PGRelation {
        PGRelation(id: 1, schema: "app", name: "t", replicaIdentity: UInt8(ascii: "d"),
                   columns: columns.map { PGRelationColumn(name: $0.0, typeOID: $0.1, typeModifier: -1, isKey: $0.0 == "id") })
    }

    @Test("a later message is compared with the one before: added, dropped, renamed, retyped")
    func laterMessages() {
        let before = Self.relation([("id", 23), ("a", 25), ("b", 25)])
        let added = RelationDiff(Self.relation([("id", 23), ("a", 25), ("b", 25), ("c", 1700)]), known: ["id", "a", "b"], previous: before)
        #expect(added.added.map(\.name) == ["c"] && added.dropped.isEmpty && added.unsupported.isEmpty)
        let dropped = RelationDiff(Self.relation([("id", 23), ("b", 25)]), known: ["id", "a", "b"], previous: before)
        #expect(dropped.dropped == ["a"] && dropped.added.isEmpty && dropped.unsupported.isEmpty)
        let renamed = RelationDiff(Self.relation([("id", 23), ("alpha", 25), ("b", 25)]), known: ["id", "a", "b"], previous: before)
        #expect(renamed.unsupported == ["column a renamed to alpha"] && renamed.dropped.isEmpty && renamed.added.isEmpty)
        let retyped = RelationDiff(Self.relation([("id", 20), ("a", 25), ("b", 25)]), known: ["id", "a", "b"], previous: before)
        #expect(retyped.unsupported == ["column id changed type"])
        #expect(RelationDiff(before, known: ["id", "a", "b"], previous: before).isEmpty)
    }

    @Test("the first message only adds: an older shape replayed after a restart never drops a column")
    func firstMessage() {
        let old = RelationDiff(Self.relation([("id", 23), ("a", 25)]), known: ["id", "a", "b"], previous: nil)
        #expect(old.isEmpty)
        let newer = RelationDiff(Self.relation([("id", 23), ("a", 25), ("b", 25), ("c", 16)]), known: ["id", "a", "b"], previous: nil)
        #expect(newer.added.map(\.name) == ["c"] && newer.dropped.isEmpty)
    }
}
