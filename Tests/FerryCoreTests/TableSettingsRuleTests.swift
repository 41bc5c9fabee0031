import FerryCore
import Testing

@Suite("table-settings rules")
struct TableSettingsRuleTests {
    static func mappings(_ settings: String) throws -> TableMappings {
        try TableMappings(json: """
            {"rules": [
              {"rule-type": "selection", "rule-id": "1", "rule-name": "all", "object-locator": {"schema-name": "app", "table-name": "%"}, "rule-action": "include"},
              \(settings)
            ]}
            """)
    }

    @Test("parallel-load: the last rule naming a table decides; partitions-auto, partitions-list, none and ranges are accepted")
    func parallelLoad() throws {
        let mappings = try Self.mappings("""
            {"rule-type": "table-settings", "rule-id": "2", "rule-name": "auto", "object-locator": {"schema-name": "app", "table-name": "%"},
             "parallel-load": {"type": "partitions-auto"}, "lob-settings": {"mode": "unlimited", "bulk-max-size": "64"}},
            {"rule-type": "table-settings", "rule-id": "3", "rule-name": "whole", "object-locator": {"schema-name": "app", "table-name": "audit%"},
             "parallel-load": {"type": "none"}},
            {"rule-type": "table-settings", "rule-id": "4", "rule-name": "ranges", "object-locator": {"schema-name": "app", "table-name": "people"},
             "parallel-load": {"type": "ranges", "columns": ["last_name", "id"], "boundaries": [["COHEN", 10], ["SMITH", "20"]]}}
            """)
        #expect(mappings.parallelLoad(of: TableID(schema: "app", name: "orders"))?.load == .auto)
        #expect(mappings.parallelLoad(of: TableID(schema: "app", name: "audit_log"))?.load == TableSettingsRule.ParallelLoad.none)
        let ranges = try #require(mappings.parallelLoad(of: TableID(schema: "app", name: "people")))
        #expect(ranges.ruleID == "4")
        #expect(ranges.load == .ranges(RangeSegments(columns: ["last_name", "id"], boundaries: [["COHEN", "10"], ["SMITH", "20"]])))
        let listed = try Self.mappings(#"{"rule-type": "table-settings", "rule-id": "5", "object-locator": {"schema-name": "app", "table-name": "t"}, "parallel-load": {"type": "partitions-list", "partitions": ["p1", "p2"]}}"#)
        #expect(listed.parallelLoad(of: TableID(schema: "app", name: "t"))?.load == .partitions(["p1", "p2"]))
        #expect(try Self.mappings(#"{"rule-type": "selection", "rule-id": "9", "object-locator": {"schema-name": "x", "table-name": "y"}, "rule-action": "exclude"}"#)
            .parallelLoad(of: TableID(schema: "app", name: "orders")) == nil, "without table settings Ferry splits tables itself")
    }

    @Test("ranges become one condition per segment, compared as tuples, plus one for rows with a NULL")
    func rangePredicates() {
        let segments = RangeSegments(columns: ["a", "b"], boundaries: [["1", "x"], ["5", "y"]])
        let predicates = segments.predicates(quote: { "\"\($0)\"" }, literal: { "'\($0)'" })
        let notNull = #""a" IS NOT NULL AND "b" IS NOT NULL"#
        let first = #"(("a" < '1') OR ("a" = '1' AND "b" < 'x'))"#
        let second = #"(("a" < '5') OR ("a" = '5' AND "b" < 'y'))"#
        #expect(predicates == [
            "\(notNull) AND \(first)",
            "\(notNull) AND NOT \(first) AND \(second)",
            "\(notNull) AND NOT \(second)",
            #"("a" IS NULL OR "b" IS NULL)"#,
        ])
        #expect(segments.chunks(quote: { $0 }, literal: { $0 }).map(\.count) == [4, 4, 4, 4])
    }

    @Test("forms Ferry does not act on are refused by name, never ignored")
    func refusals() {
        func message(_ rule: String) -> String {
            do { _ = try Self.mappings(rule); return "accepted" } catch { return "\(error)" }
        }
        #expect(message(#"{"rule-type": "table-settings", "rule-id": "2", "object-locator": {"schema-name": "app", "table-name": "t"}, "parallel-load": {"type": "subpartitions-auto"}}"#)
            .contains("rule '2'.parallel-load.type: 'subpartitions-auto' is for Oracle subpartitions"))
        #expect(message(#"{"rule-type": "table-settings", "rule-id": "2", "object-locator": {"schema-name": "app", "table-name": "t"}, "parallel-load": {"type": "partitions-list"}}"#)
            == "rule '2'.parallel-load.partitions: is required: a list of partition names")
        #expect(message(#"{"rule-type": "table-settings", "rule-id": "2", "object-locator": {"schema-name": "app", "table-name": "t"}, "parallel-load": {"type": "ranges", "columns": ["a", "b"], "boundaries": [["10"]]}}"#)
            == "rule '2'.parallel-load.boundaries[0]: expected 2 values, one per column")
        #expect(message(#"{"rule-type": "table-settings", "rule-id": "2", "object-locator": {"schema-name": "app", "table-name": "t"}, "parallel-load": {"type": "ranges", "boundaries": [["10"]]}}"#)
            == "rule '2'.parallel-load.columns: is required: 1 to 10 column names")
        #expect(message(#"{"rule-type": "table-settings", "rule-id": "2", "object-locator": {"schema-name": "app", "table-name": "t"}, "parallel-load": {"type": "shards"}}"#)
            .contains("unknown parallel-load type 'shards'"))
        #expect(message(#"{"rule-type": "table-settings", "rule-id": "2", "object-locator": {"schema-name": "app", "table-name": "t"}, "lob-settings": {"mode": "partial"}}"#)
            == "rule '2'.lob-settings.mode: unknown lob-settings mode 'partial'; expected limited, unlimited or none")
        #expect(message(#"{"rule-type": "table-settings", "rule-id": "2", "object-locator": {"schema-name": "app", "table-name": "t"}, "parallel-load": {"type": "none"}, "colour": 1}"#)
            .contains("colour"))
    }
}
