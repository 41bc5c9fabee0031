import FerryCore
import Testing

@Suite("Mapping rules that match nothing")
struct RuleUsageTests {
    static let tables = [
        TableSchema(id: TableID(schema: "app", name: "customers"), engine: .postgres,
                    columns: [Column(name: "id", type: .integer(bytes: 4, unsigned: false), nativeType: "integer", nullable: false),
                              Column(name: "email", type: .text, nativeType: "text", nullable: false)], primaryKey: ["id"]),
        TableSchema(id: TableID(schema: "app", name: "orders"), engine: .postgres,
                    columns: [Column(name: "id", type: .integer(bytes: 4, unsigned: false), nativeType: "integer", nullable: false)], primaryKey: ["id"]),
    ]

    static func rule(_ id: Int, _ target: String, _ locator: String, action: String = "rename", value: String = "x") -> String {
        #"{"rule-type":"transformation","rule-id":"\#(id)","rule-name":"r\#(id)","rule-target":"\#(target)","object-locator":{\#(locator)},"rule-action":"\#(action)","value":"\#(value)"}"#
    }

    @Test("a literal rule naming a missing table or column is reported as literal; a wildcard that matches nothing is not")
    func literalAndWildcard() throws {
        let mappings = try TableMappings(json: """
            {"rules":[
              {"rule-type":"selection","rule-id":"1","rule-name":"s","object-locator":{"schema-name":"app","table-name":"%"},"rule-action":"include"},
              {"rule-type":"selection","rule-id":"2","rule-name":"s2","object-locator":{"schema-name":"app","table-name":"invoices"},"rule-action":"include"},
              {"rule-type":"selection","rule-id":"3","rule-name":"s3","object-locator":{"schema-name":"app","table-name":"gone"},"rule-action":"exclude"},
              \(Self.rule(4, "column", #""schema-name":"app","table-name":"customers","column-name":"emial""#)),
              \(Self.rule(5, "column", #""schema-name":"app","table-name":"%","column-name":"email""#)),
              \(Self.rule(6, "table", #""schema-name":"app","table-name":"log%""#, action: "add-prefix")),
              \(Self.rule(7, "schema", #""schema-name":"sales""#)),
              \(Self.rule(8, "column", #""schema-name":"app","table-name":"orders","column-name":"id""#))
            ]}
            """)
        let unmatched = mappings.unmatchedRules(in: Self.tables)
        #expect(unmatched.map(\.ruleID) == ["2", "4", "6", "7"], "the exclude rule and the rules that match are not reported")
        #expect(unmatched.map(\.literal) == [true, true, false, true])
        #expect(unmatched[1].error.message == "rule '4'.object-locator: schema-name 'app', table-name 'customers', column-name 'emial' matches no selected table or column")
    }

    @Test("each rule lists the tables it names, in rule order; a schema rule names every table of its schema")
    func matchesPerRule() throws {
        let mappings = try TableMappings(json: """
            {"rules":[
              \(Self.rule(10, "table", #""schema-name":"app","table-name":"ord%""#, action: "add-prefix")),
              {"rule-type":"selection","rule-id":"2","rule-name":"s","object-locator":{"schema-name":"app","table-name":"%"},"rule-action":"include"},
              {"rule-type":"selection","rule-id":"3","rule-name":"x","object-locator":{"schema-name":"app","table-name":"audit"},"rule-action":"exclude"},
              \(Self.rule(4, "schema", #""schema-name":"app""#)),
              {"rule-type":"table-settings","rule-id":"5","rule-name":"t","object-locator":{"schema-name":"app","table-name":"customers"},"parallel-load":{"type":"partitions-auto"}}
            ]}
            """)
        let found = mappings.matches(in: Self.tables.map(\.id))
        #expect(found.map(\.ruleID) == ["2", "3", "4", "5", "10"])
        #expect(found.map { $0.tables.map(\.name) } == [["customers", "orders"], [], ["customers", "orders"], ["customers"], ["orders"]])
        #expect(found.map(\.ruleType) == ["selection", "selection", "transformation", "table-settings", "transformation"])
        #expect(found[0].locator == "schema-name 'app', table-name '%'" && found[1].action == "exclude" && found[4].action == "add-prefix")
    }

    @Test("a wildcard table with a literal column is planned for the tables that have the column and skips the others")
    func wildcardTableLiteralColumn() throws {
        let mappings = try TableMappings(json: """
            {"rules":[
              {"rule-type":"selection","rule-id":"1","rule-name":"s","object-locator":{"schema-name":"app","table-name":"%"},"rule-action":"include"},
              \(Self.rule(2, "column", #""schema-name":"app","table-name":"%","column-name":"email""#, value: "mail"))
            ]}
            """)
        #expect(mappings.unmatchedRules(in: Self.tables).isEmpty)
        let customers = try mappings.plan(for: Self.tables[0])
        #expect(customers.columns.map(\.targetName) == ["id", "mail"] && customers.columns[1].ruleIDs == ["2"])
        #expect(try mappings.plan(for: Self.tables[1]).columns.map(\.targetName) == ["id"], "orders has no email: nothing to rename, no error")
    }
}
