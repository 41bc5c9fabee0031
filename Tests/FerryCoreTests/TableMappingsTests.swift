import FerryCore
import Foundation
import Testing

@Suite struct WildcardTests {
    @Test func percentMatchesAnyRun() throws {
        let w = try Wildcard("ord%s")
        #expect(w.matches("orders"))
        #expect(w.matches("ords"))
        #expect(!w.matches("order"))
        #expect(try Wildcard("%").matches(""))
    }

    @Test func underscoreMatchesOneCharacterAndEscapesAreLiteral() throws {
        #expect(try Wildcard("t_1").matches("tx1"))
        #expect(!(try Wildcard("t_1").matches("t1")))
        #expect(try Wildcard("t[_]1").matches("t_1"))
        #expect(!(try Wildcard("t[_]1").matches("tx1")))
        #expect(try Wildcard("100[%]").matches("100%"))
        #expect(throws: FerryError.self) { try Wildcard("bad[") }
    }
}

@Suite struct TableMappingsTests {
    static func table(_ schema: String, _ name: String, columns: [String] = ["id", "name"]) -> TableSchema {
        TableSchema(id: TableID(schema: schema, name: name), engine: .postgres,
                    columns: columns.map { Column(name: $0, type: .text, nativeType: "text", nullable: true) }, primaryKey: ["id"])
    }

    @Test func includeAndExcludeRules() throws {
        let m = try TableMappings(json: """
            {"rules": [
              {"rule-type": "selection", "rule-id": "1", "rule-name": "1", "object-locator": {"schema-name": "public", "table-name": "%"}, "rule-action": "include"},
              {"rule-type": "selection", "rule-id": 2, "rule-name": "2", "object-locator": {"schema-name": "public", "table-name": "tmp%"}, "rule-action": "exclude"}
            ]}
            """)
        #expect(m.selects(TableID(schema: "public", name: "orders")))
        #expect(!m.selects(TableID(schema: "public", name: "tmp_orders")))
        #expect(!m.selects(TableID(schema: "other", name: "orders")))
    }

    @Test func transformationsRenameSchemaTableAndColumns() throws {
        let m = try TableMappings(json: """
            {"rules": [
              {"rule-type": "selection", "rule-id": "1", "rule-name": "1", "object-locator": {"schema-name": "main", "table-name": "%"}, "rule-action": "include"},
              {"rule-type": "transformation", "rule-id": "2", "rule-name": "2", "rule-target": "schema", "object-locator": {"schema-name": "main"}, "rule-action": "rename", "value": "public"},
              {"rule-type": "transformation", "rule-id": "3", "rule-name": "3", "rule-target": "table", "object-locator": {"schema-name": "main", "table-name": "%"}, "rule-action": "add-prefix", "value": "app_"},
              {"rule-type": "transformation", "rule-id": "4", "rule-name": "4", "rule-target": "column", "object-locator": {"schema-name": "main", "table-name": "%", "column-name": "name"}, "rule-action": "convert-uppercase"},
              {"rule-type": "transformation", "rule-id": "5", "rule-name": "5", "rule-target": "column", "object-locator": {"schema-name": "main", "table-name": "users", "column-name": "secret"}, "rule-action": "remove-column"}
            ]}
            """)
        let plan = try m.plan(for: Self.table("main", "users", columns: ["id", "name", "secret"]))
        #expect(plan.target == TableID(schema: "public", name: "app_users"))
        #expect(plan.columns.map(\.targetName) == ["id", "NAME"])
    }

    @Test func oneActionPerObjectTheLowestRuleIDWins() throws {
        let m = try TableMappings(json: """
            {"rules": [
              {"rule-type": "selection", "rule-id": "1", "rule-name": "1", "object-locator": {"schema-name": "s", "table-name": "%"}, "rule-action": "include"},
              {"rule-type": "transformation", "rule-id": "12", "rule-name": "b", "rule-target": "table", "object-locator": {"schema-name": "s", "table-name": "t"}, "rule-action": "rename", "value": "second"},
              {"rule-type": "transformation", "rule-id": "3", "rule-name": "a", "rule-target": "table", "object-locator": {"schema-name": "s", "table-name": "%"}, "rule-action": "rename", "value": "first"},
              {"rule-type": "transformation", "rule-id": "4", "rule-name": "c", "rule-target": "column", "object-locator": {"schema-name": "s", "table-name": "t", "column-name": "%"}, "rule-action": "convert-uppercase"},
              {"rule-type": "transformation", "rule-id": "5", "rule-name": "d", "rule-target": "column", "object-locator": {"schema-name": "s", "table-name": "t", "column-name": "name"}, "rule-action": "rename", "value": "label"},
              {"rule-type": "transformation", "rule-id": "6", "rule-name": "e", "rule-target": "column", "object-locator": {"schema-name": "s", "table-name": "t", "column-name": "name"}, "rule-action": "change-data-type", "data-type": {"type": "string", "length": 9}},
              {"rule-type": "transformation", "rule-id": "7", "rule-name": "f", "rule-target": "column", "object-locator": {"schema-name": "s", "table-name": "t", "column-name": "name"}, "rule-action": "change-data-type", "data-type": {"type": "int4"}}
            ]}
            """)
        let plan = try m.plan(for: Self.table("s", "t"))
        #expect(plan.target.name == "first", "rule 3 comes before rule 12 whatever their order in the document")
        #expect(plan.columns.map(\.targetName) == ["ID", "NAME"], "the rename (rule 5) loses to the upper-casing (rule 4)")
        #expect(plan.columns[1].targetType == .varchar(length: 9))
    }

    @Test func errorsNameTheRuleAndField() throws {
        func message(_ json: String) -> String {
            do { _ = try TableMappings(json: json); return "no error" } catch { return "\(error)" }
        }
        #expect(message("not json") == "TableMappings: is not valid JSON")
        #expect(message(#"{"rules": [{"rule-type": "selection", "rule-id": "7", "object-locator": {"schema-name": "a", "table-name": "b"}, "rule-action": "grab"}]}"#)
            .contains("rule '7'.rule-action: unknown rule-action 'grab'"))
        #expect(message(#"{"rules": [{"rule-type": "selection", "rule-id": "1", "object-locator": {"schema-name": "a"}, "rule-action": "include"}]}"#)
            == "rule '1'.object-locator.table-name: is required")
        #expect(message(#"{"rules": [{"rule-type": "selection", "rule-id": "1", "object-locator": {"schema-name": "a", "table-name": "b"}, "rule-action": "include"}, {"rule-type": "selection", "rule-id": "1", "object-locator": {"schema-name": "a", "table-name": "c"}, "rule-action": "include"}]}"#)
            .contains("duplicate rule-id '1'"))
        #expect(message(#"{"rules": [{"rule-type": "magic", "rule-id": "3"}]}"#).contains("unknown rule-type 'magic'"))
        #expect(message(#"{"rules": [{"rule-type": "selection", "rule-id": "1", "object-locator": {"schema-name": "a", "table-name": "b"}, "rule-action": "include", "colour": 1}]}"#)
            .contains("rule '1'.colour: unknown key"))
    }

    @Test func removingAMissingColumnIsAnError() throws {
        let m = try TableMappings(json: """
            {"rules": [
              {"rule-type": "selection", "rule-id": "1", "rule-name": "1", "object-locator": {"schema-name": "s", "table-name": "%"}, "rule-action": "include"},
              {"rule-type": "transformation", "rule-id": "2", "rule-name": "2", "rule-target": "column", "object-locator": {"schema-name": "s", "table-name": "t", "column-name": "nope"}, "rule-action": "remove-column"}
            ]}
            """)
        #expect(m.unmatchedRules(in: [Self.table("s", "t")]).map(\.literal) == [true])
    }
}

@Suite struct ConnectionURLTests {
    @Test func parsesServerURLs() throws {
        let u = try ConnectionURL.parse("postgresql://bob:p%40ss@db.example:6543/shop?sslmode=require")
        #expect(u.engine == .postgres)
        #expect(u.user == "bob")
        #expect(u.password == "p@ss")
        #expect(u.host == "db.example")
        #expect(u.port == 6543)
        #expect(u.database == "shop")
        #expect(u.parameters["sslmode"] == "require")
        #expect(u.description == "postgres://bob:***@db.example:6543/shop")
        let m = try ConnectionURL.parse("mariadb://root@127.0.0.1:3306")
        #expect(m.engine == .mysql)
        #expect(m.database == nil)
    }

    @Test func parsesSQLitePaths() throws {
        #expect(try ConnectionURL.parse("sqlite:///data/app.db").database == "/data/app.db")
        #expect(try ConnectionURL.parse("sqlite:app.db").database == "app.db")
    }

    @Test func rejectsBadURLsWithTheField() {
        #expect(throws: FerryError.invalidParameter("--source", "unknown scheme 'oracle'; use postgres://, postgresql://, mysql://, mariadb:// or sqlite://")) {
            try ConnectionURL.parse("oracle://x", field: "--source")
        }
        #expect(throws: FerryError.self) { try ConnectionURL.parse("postgres://h/db?sslmode=maybe") }
    }
}

@Suite struct TemporalTextTests {
    @Test func convertsOffsetsToUTC() {
        #expect(TemporalText.utcWithoutOffset("2024-01-02 03:04:05.123456+00") == "2024-01-02 03:04:05.123456")
        #expect(TemporalText.utcWithoutOffset("2024-01-02 01:00:00+02") == "2024-01-01 23:00:00")
        #expect(TemporalText.utcWithoutOffset("2024-12-31 22:30:00-03:30") == "2025-01-01 02:00:00")
        #expect(TemporalText.utcWithoutOffset("2024-01-02T03:04:05Z") == "2024-01-02 03:04:05")
        #expect(TemporalText.utcWithoutOffset("2024-01-02 03:04:05") == "2024-01-02 03:04:05")
    }
}

@Suite struct BatchPipeTests {
    @Test func deliversInOrderThenEnds() throws {
        let pipe = BatchPipe(capacity: 2)
        try pipe.send(.rows([[.int(1)]]))
        try pipe.send(.rows([[.int(2)]]))
        pipe.finish()
        #expect(try pipe.receive()?.rowCount == 1)
        #expect(try pipe.receive()?.rowCount == 1)
        #expect(try pipe.receive() == nil)
    }

    @Test func abortReachesBothSides() throws {
        let pipe = BatchPipe(capacity: 1)
        pipe.abort(FerryError.cancelled)
        #expect(throws: FerryError.cancelled) { try pipe.send(.rows([])) }
        #expect(throws: FerryError.cancelled) { try pipe.receive() }
    }
}

@Suite struct HandoverTests {
    @Test("a receive waits for an item sent later; a receive with a deadline comes back waiting at it")
    func waits() throws {
        let handover = Handover<Int>(capacity: 1)
        let sender = Thread {
            Thread.sleep(forTimeInterval: 0.2)
            try? handover.send(7)
            handover.finish()
        }
        sender.start()
        #expect(try handover.receive() == 7)
        #expect(try handover.receive() == nil)
        let idle = Handover<Int>(capacity: 1)
        let started = Date()
        guard case .waiting = try idle.receive(before: started.addingTimeInterval(0.1)) else {
            Issue.record("expected to wait")
            return
        }
        #expect(Date().timeIntervalSince(started) >= 0.1)
    }
}

@Suite struct BatchPipeMemoryTests {
    /// If the pipe still referenced a consumed buffer, writing to the received copy would force a
    /// copy-on-write and move it: the address staying put proves the pipe let go.
    @Test func consumedBatchesAreNotRetained() throws {
        let pipe = BatchPipe(capacity: 2)
        for round in 0..<3 {
            try pipe.send(.encoded(bytes: [UInt8](repeating: 7, count: 4096), rowCount: 1))
            try pipe.send(.encoded(bytes: [UInt8](repeating: 9, count: 4096), rowCount: 1))
            for _ in 0..<2 {
                guard case .encoded(var bytes, _)? = try pipe.receive() else {
                    Issue.record("round \(round): no batch")
                    return
                }
                let before = bytes.withUnsafeBufferPointer { $0.baseAddress }
                bytes[0] = 1
                #expect(bytes.withUnsafeBufferPointer { $0.baseAddress } == before, "round \(round): the pipe still holds a consumed batch")
            }
        }
    }
}

@Suite struct RowFilterTests {
    static let table = TableSchema(id: TableID(schema: "s", name: "orders"), engine: .postgres,
                                   columns: ["id", "status", "total"].map { Column(name: $0, type: .text, nativeType: "text", nullable: true) },
                                   primaryKey: ["id"])

    static func mappings(_ filters: String) throws -> TableMappings {
        try TableMappings(json: """
            {"rules": [{"rule-type": "selection", "rule-id": "1", "rule-name": "1",
              "object-locator": {"schema-name": "s", "table-name": "orders"}, "rule-action": "include", "filters": \(filters)}]}
            """)
    }

    @Test func conditionsAreOredAndFiltersAnded() throws {
        let m = try Self.mappings("""
            [{"filter-type": "source", "column-name": "id", "filter-conditions": [{"filter-operator": "ste", "value": "10"}, {"filter-operator": "between", "start-value": 100, "end-value": 200}]},
             {"filter-type": "source", "column-name": "status", "filter-conditions": [{"filter-operator": "notnull"}]}]
            """)
        let plan = try m.plan(for: Self.table)
        let sql = plan.filterSQL(quote: { "\"\($0)\"" }, literal: { "'\($0)'" })
        #expect(sql == #"("id" <= '10' OR "id" BETWEEN '100' AND '200') AND "status" IS NOT NULL"#)
    }

    @Test func badFiltersAreRejectedWithTheirPath() throws {
        func message(_ filters: String) -> String {
            do { _ = try Self.mappings(filters).plan(for: Self.table); return "no error" } catch { return "\(error)" }
        }
        #expect(message(#"[{"filter-type": "source", "column-name": "id", "filter-conditions": [{"filter-operator": "like", "value": "1"}]}]"#)
            .contains("rule '1'.filters[0].filter-conditions[0].filter-operator: unknown filter-operator 'like'"))
        #expect(message(#"[{"filter-type": "source", "column-name": "id", "filter-conditions": [{"filter-operator": "between", "start-value": "1"}]}]"#)
            .contains("end-value: is required for filter-operator between"))
        #expect(message(#"[{"filter-type": "source", "column-name": "nope", "filter-conditions": [{"filter-operator": "null"}]}]"#)
            == "rule '1'.filters.column-name: column 'nope' does not exist in s.orders")
        #expect(message(#"[{"filter-type": "source", "column-name": "id", "filter-conditions": []}]"#).contains("needs at least one condition"))
    }
}

@Suite struct IncludeColumnTests {
    @Test func onlyIncludedColumnsAreCopiedAndRenamesStillApply() throws {
        let m = try TableMappings(json: """
            {"rules": [
              {"rule-type": "selection", "rule-id": "1", "rule-name": "1", "object-locator": {"schema-name": "s", "table-name": "%"}, "rule-action": "include"},
              {"rule-type": "transformation", "rule-id": "2", "rule-name": "2", "rule-target": "column", "object-locator": {"schema-name": "s", "table-name": "users", "column-name": "id"}, "rule-action": "include-column"},
              {"rule-type": "transformation", "rule-id": "3", "rule-name": "3", "rule-target": "column", "object-locator": {"schema-name": "s", "table-name": "users", "column-name": "em%"}, "rule-action": "include-column"},
              {"rule-type": "transformation", "rule-id": "4", "rule-name": "4", "rule-target": "column", "object-locator": {"schema-name": "s", "table-name": "users", "column-name": "email"}, "rule-action": "rename", "value": "mail"}
            ]}
            """)
        let users = try m.plan(for: TableMappingsTests.table("s", "users", columns: ["id", "email", "password_hash", "name"]))
        #expect(users.columns.map(\.targetName) == ["id", "mail"])
        let other = try m.plan(for: TableMappingsTests.table("s", "orders", columns: ["id", "total"]))
        #expect(other.columns.map(\.targetName) == ["id", "total"])
        #expect(throws: FerryError.self) {
            try TableMappings(json: #"{"rules": [{"rule-type": "selection", "rule-id": "1", "object-locator": {"schema-name": "s", "table-name": "%"}, "rule-action": "include"}, {"rule-type": "transformation", "rule-id": "2", "rule-target": "table", "object-locator": {"schema-name": "s", "table-name": "t"}, "rule-action": "include-column"}]}"#)
        }
    }
}
