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

    @Test("parallel-load none keeps a table to one reader; partitions-auto and lob-settings unlimited are accepted")
    func parallelLoad() throws {
        let mappings = try Self.mappings("""
            {"rule-type": "table-settings", "rule-id": "2", "rule-name": "auto", "object-locator": {"schema-name": "app", "table-name": "%"},
             "parallel-load": {"type": "partitions-auto"}, "lob-settings": {"mode": "unlimited", "bulk-max-size": "64"}},
            {"rule-type": "table-settings", "rule-id": "3", "rule-name": "whole", "object-locator": {"schema-name": "app", "table-name": "audit%"},
             "parallel-load": {"type": "none"}}
            """)
        #expect(mappings.allowsParallelLoad(TableID(schema: "app", name: "orders")))
        #expect(!mappings.allowsParallelLoad(TableID(schema: "app", name: "audit_log")))
        #expect(try Self.mappings(#"{"rule-type": "selection", "rule-id": "9", "object-locator": {"schema-name": "x", "table-name": "y"}, "rule-action": "exclude"}"#)
            .allowsParallelLoad(TableID(schema: "app", name: "orders")), "without table settings every table may be split")
    }

    @Test("forms Ferry does not act on are refused by name, never ignored")
    func refusals() {
        func message(_ rule: String) -> String {
            do { _ = try Self.mappings(rule); return "accepted" } catch { return "\(error)" }
        }
        #expect(message(#"{"rule-type": "table-settings", "rule-id": "2", "object-locator": {"schema-name": "app", "table-name": "t"}, "parallel-load": {"type": "ranges", "columns": ["id"], "boundaries": [["10"]]}}"#)
            .contains("rule '2'.parallel-load.type: 'ranges' is not supported yet"))
        #expect(message(#"{"rule-type": "table-settings", "rule-id": "2", "object-locator": {"schema-name": "app", "table-name": "t"}, "parallel-load": {"type": "shards"}}"#)
            .contains("unknown parallel-load type 'shards'"))
        #expect(message(#"{"rule-type": "table-settings", "rule-id": "2", "object-locator": {"schema-name": "app", "table-name": "t"}, "lob-settings": {"mode": "limited", "bulk-max-size": "16"}}"#)
            .contains("rule '2'.lob-settings.mode: 'limited' is not supported yet: Ferry copies every LOB whole"))
        #expect(message(#"{"rule-type": "table-settings", "rule-id": "2", "object-locator": {"schema-name": "app", "table-name": "t"}, "parallel-load": {"type": "none"}, "colour": 1}"#)
            .contains("colour"))
    }
}
