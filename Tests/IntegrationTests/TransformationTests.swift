import Crypto
import FerryConnectors
import FerryCore
import FerryEngine
import Foundation
import Testing

@Suite("Transformation rules over real servers")
struct TransformationTests {
    /// add-column expressions over columns, headers and metadata; masking; change-data-type — in the load and in CDC.
    static let rules = """
        ,{"rule-type":"transformation","rule-id":"10","rule-name":"full","rule-target":"column","object-locator":{"schema-name":"%","table-name":"people"},
          "rule-action":"add-column","value":"full_name","expression":"$first_name||' '||upper($last_name)","data-type":{"type":"string","length":100}}
        ,{"rule-type":"transformation","rule-id":"11","rule-name":"op","rule-target":"column","object-locator":{"schema-name":"%","table-name":"people"},
          "rule-action":"add-column","value":"op","expression":"$AR_H_OPERATION","data-type":{"type":"string","length":10}}
        ,{"rule-type":"transformation","rule-id":"12","rule-name":"next","rule-target":"column","object-locator":{"schema-name":"%","table-name":"people"},
          "rule-action":"add-column","value":"age_next","expression":"$age + 1","data-type":{"type":"int4"}}
        ,{"rule-type":"transformation","rule-id":"13","rule-name":"src","rule-target":"column","object-locator":{"schema-name":"%","table-name":"people"},
          "rule-action":"add-column","value":"origin","expression":"$AR_M_SOURCE_TABLE_NAME","data-type":{"type":"string","length":30}}
        ,{"rule-type":"transformation","rule-id":"14","rule-name":"mask","rule-target":"column","object-locator":{"schema-name":"%","table-name":"people","column-name":"passport"},
          "rule-action":"data-masking-digits-mask","value":"#"}
        ,{"rule-type":"transformation","rule-id":"15","rule-name":"hash","rule-target":"column","object-locator":{"schema-name":"%","table-name":"people","column-name":"card"},
          "rule-action":"data-masking-hash-mask"}
        ,{"rule-type":"transformation","rule-id":"16","rule-name":"type","rule-target":"column","object-locator":{"schema-name":"%","table-name":"people","column-name":"age"},
          "rule-action":"change-data-type","data-type":{"type":"int8"}}
        ,{"rule-type":"transformation","rule-id":"17","rule-name":"key","rule-target":"table","object-locator":{"schema-name":"SCHEMA_NAME","table-name":"events"},
          "rule-action":"define-primary-key","primary-key-def":{"name":"events_pk","origin":"primary-key","columns":["code"]}}
        ,{"rule-type":"transformation","rule-id":"18","rule-name":"seq","rule-target":"column","object-locator":{"schema-name":"%","table-name":"people"},
          "rule-action":"add-column","value":"seq","expression":"$AR_H_CHANGE_SEQ","data-type":{"type":"string","length":35}}
        """

    @Test("computed, masked and retyped columns in the full load and in CDC; a defined primary key",
          arguments: [EnginePair(source: .postgres, target: .mysql), EnginePair(source: .mysql, target: .postgres),
                      EnginePair(source: .postgres, target: .postgres), EnginePair(source: .sqlite, target: .sqlite),
                      EnginePair(source: .sqlite, target: .mysql)])
    func transformedReplication(pair: EnginePair) async throws {
        let source = try TestDatabase.make(pair.source, label: "src"), target = try TestDatabase.make(pair.target, label: "dst")
        defer { ChangeCaptureTests.drop(source, target) }
        let people = source.qualified("people"), events = source.qualified("events")
        let varchar = pair.source == .sqlite ? "TEXT" : "varchar(40)"
        // SQLite captures changes by each table's own key: there the defined key replaces a wider one.
        let eventsKey = pair.source == .sqlite ? ", PRIMARY KEY (code, note)" : ""
        try source.execute("""
            CREATE TABLE \(people) (id int PRIMARY KEY, first_name \(varchar), last_name \(varchar), passport \(varchar), card \(varchar), age int);
            INSERT INTO \(people) VALUES (1, 'Ada', 'Lovelace', 'C6BGJ56669K', '4111 1111', 36), (2, 'Alan', 'Turing', NULL, NULL, NULL);
            CREATE TABLE \(events) (code \(varchar) NOT NULL, note \(varchar) NOT NULL\(eventsKey));
            INSERT INTO \(events) VALUES ('a', 'first'), ('b', 'second')
            """)
        if pair.source == .postgres { try source.execute("ALTER TABLE \(events) REPLICA IDENTITY FULL") }
        let task = "cdc-test-\(UUID().uuidString.prefix(8).lowercased())"
        let rules = Self.rules.replacingOccurrences(of: "SCHEMA_NAME", with: source.schema)
        let runner = try cdcRunner(source, target, task: task, extraRules: rules)
        let ended = ManagedFlag()
        let running = Task {
            defer { ended.stop() }
            try await runner.run()
        }
        defer { running.cancel() }
        try await waitUntil { runner.status.snapshot().phase == .changeCapture || ended.isStopped }
        if ended.isStopped { try await running.value }
        let loaded = runner.loadStatus.snapshot()
        try #require(loaded.count == 2 && loaded.allSatisfy { $0.state == .completed }, "\(loaded.map { "\($0.source) \($0.state) \($0.error ?? "")" })")
        #expect(loaded.first { $0.source.name == "people" }?.passthrough == false, "computed columns need decoded rows")

        try source.execute("INSERT INTO \(people) VALUES (3, 'Grace', 'Hopper', 'X1', '5500', 85)")
        try source.execute("UPDATE \(people) SET age = 37 WHERE id = 1")
        try await waitForRow(target, "SELECT op FROM \(target.qualified("people")) WHERE id = 3", equals: "INSERT")
        try await waitUntil {
            try target.query("SELECT op FROM \(target.qualified("people")) WHERE id = 1") == [["UPDATE"]]
        }
        running.cancel()
        try await running.value

        let rows = try target.query("SELECT id, full_name, op, age_next, origin, passport, card, age FROM \(target.qualified("people")) ORDER BY id")
        let cardHash = SHA256.hash(data: Array("4111 1111".utf8)).map { String(format: "%02x", $0) }.joined()
        #expect(rows == [
            ["1", "Ada LOVELACE", "UPDATE", "38", "people", "C#BGJ#####K", cardHash, "37"],
            ["2", "Alan TURING", "INSERT", nil, "people", nil, nil, nil],
            ["3", "Grace HOPPER", "INSERT", "86", "people", "X#",
             SHA256.hash(data: Array("5500".utf8)).map { String(format: "%02x", $0) }.joined(), "85"],
        ])
        // The change sequence: empty for loaded rows, 35 digits growing with the stream for changed ones.
        let sequences = try target.query("SELECT seq FROM \(target.qualified("people")) ORDER BY id").map { $0[0] ?? "" }
        #expect(sequences[1].isEmpty && sequences[0].count == 35 && sequences[2].count == 35 && sequences[2] < sequences[0],
                "row 3 was inserted before row 1 was updated: \(sequences)")
        #expect(try target.columnType("people", "age").lowercased().contains(pair.target == .sqlite ? "int" : "big"))
        #expect(try target.primaryKeyColumns("events") == ["code"])
        // Validation leaves masked and computed columns out, and compares the rest.
        let validation = try await validate(source, target, extraRules: rules)
        #expect(validation.allSatisfy { $0.matches }, "\(summary(validation))")
    }

    @Test("mistakes in transformation rules name the rule, the field and the reason")
    func ruleErrors() async throws {
        let source = try TestDatabase.make(.postgres, label: "src"), target = try TestDatabase.make(.postgres, label: "dst")
        defer { source.drop(); target.drop() }
        try source.execute("CREATE TABLE app.people (id int PRIMARY KEY, name text)")
        let missing = #",{"rule-type":"transformation","rule-id":"9","rule-name":"x","rule-target":"column","object-locator":{"schema-name":"app","table-name":"people"},"rule-action":"add-column","value":"y","expression":"$nope || 'x'","data-type":{"type":"string","length":5}}"#
        let progress = try await migrate(from: source, to: target, extraRules: missing)
        let error = progress.first?.error ?? ""
        #expect(progress.first?.state == .failed)
        #expect(error.contains("rule '9'.expression") && error.contains("'nope'"), "\(error)")
    }
}

/// Waits until `sql` returns exactly one row holding `value`.
func waitForRow(_ db: TestDatabase, _ sql: String, equals value: String, seconds: Int = 180,
                sourceLocation: SourceLocation = #_sourceLocation) async throws {
    try await waitUntil(seconds: seconds, sourceLocation: sourceLocation) { try db.query(sql) == [[value]] }
}

extension TestDatabase {
    /// A column's type as the database names it.
    func columnType(_ table: String, _ column: String) throws -> String {
        switch engine {
        case .postgres:
            return try query("SELECT data_type FROM information_schema.columns WHERE table_schema = '\(schema)' AND table_name = '\(table)' AND column_name = '\(column)'").first?[0] ?? ""
        case .mysql:
            return try query("SELECT COLUMN_TYPE FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = '\(schema)' AND TABLE_NAME = '\(table)' AND COLUMN_NAME = '\(column)'").first?[0] ?? ""
        case .sqlite:
            return try query("SELECT type FROM pragma_table_info('\(table)') WHERE name = '\(column)'").first?[0] ?? ""
        }
    }

    /// The primary-key columns of a table, in key order.
    func primaryKeyColumns(_ table: String) throws -> [String] {
        switch engine {
        case .postgres:
            return try query("""
                SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
                WHERE i.indrelid = '\(schema).\(table)'::regclass AND i.indisprimary ORDER BY array_position(i.indkey, a.attnum)
                """).map { $0[0] ?? "" }
        case .mysql:
            return try query("SELECT COLUMN_NAME FROM information_schema.KEY_COLUMN_USAGE WHERE TABLE_SCHEMA = '\(schema)' AND TABLE_NAME = '\(table)' AND CONSTRAINT_NAME = 'PRIMARY' ORDER BY ORDINAL_POSITION").map { $0[0] ?? "" }
        case .sqlite:
            return try query("SELECT name FROM pragma_table_info('\(table)') WHERE pk > 0 ORDER BY pk").map { $0[0] ?? "" }
        }
    }
}

@Suite("parallel-load ranges over real servers")
struct RangeLoadTests {
    @Test("every row lands once, rows with NULLs in range columns included; a missing column fails the table by rule",
          arguments: [EngineKind.postgres, .mysql, .sqlite])
    func rangesLoadEveryRowOnce(source engine: EngineKind) async throws {
        let source = try TestDatabase.make(engine, label: "src"), target = try TestDatabase.make(.postgres, label: "dst")
        defer { source.drop(); target.drop() }
        let people = source.qualified("people")
        let rows = (1...600).map { n in "(\(n), \(n % 13 == 0 ? "NULL" : "'\(["adams", "cohen", "lee", "smith", "young"][n % 5])'"), \(n % 7 == 0 ? "NULL" : String(n % 10)))" }
        try source.execute("""
            CREATE TABLE \(people) (id int PRIMARY KEY, last_name varchar(20), grp int);
            INSERT INTO \(people) VALUES \(rows.joined(separator: ", "))
            """)
        let rule = #",{"rule-type":"table-settings","rule-id":"7","rule-name":"r","object-locator":{"schema-name":"SCHEMA_NAME","table-name":"people"},"parallel-load":{"type":"ranges","columns":["last_name","grp"],"boundaries":[["cohen",5],["smith","0"]]}}"#
        let progress = try await migrate(from: source, to: target, extraRules: rule.replacingOccurrences(of: "SCHEMA_NAME", with: source.schema))
        let table = try #require(progress.first)
        #expect(table.state == .completed, "\(table.error ?? "")")
        #expect(table.chunks == (engine == .sqlite ? 1 : 4))
        #expect(try target.query("SELECT count(*), count(DISTINCT id) FROM \(target.qualified("people"))") == [["600", "600"]])
        let validation = try await validate(source, target)
        #expect(validation.allSatisfy { $0.matches }, "\(summary(validation))")

        let missing = #",{"rule-type":"table-settings","rule-id":"8","rule-name":"r","object-locator":{"schema-name":"SCHEMA_NAME","table-name":"people"},"parallel-load":{"type":"ranges","columns":["nope"],"boundaries":[["1"]]}}"#
        let failed = try await migrate(from: source, to: target, extraRules: missing.replacingOccurrences(of: "SCHEMA_NAME", with: source.schema))
        #expect(failed.first?.state == .failed)
        #expect(failed.first?.error == "rule '8'.parallel-load.columns: column 'nope' does not exist in \(source.schema).people")
    }
}

@Suite("Limited LOB mode over real servers")
struct LobLimitLoadTests {
    @Test("LOBs over a limited size are cut, counted and reported per column; under the strict policy the table fails")
    func limitedLobs() async throws {
        let source = try TestDatabase.make(.postgres, label: "src"), target = try TestDatabase.make(.mysql, label: "dst")
        defer { source.drop(); target.drop() }
        try source.execute("""
            CREATE TABLE app.docs (id int PRIMARY KEY, body text, data bytea, title varchar(2000));
            INSERT INTO app.docs VALUES (1, repeat('é', 700), decode(repeat('ab', 3000), 'hex'), repeat('t', 1500)), (2, 'short', '\\x00', 'short')
            """)
        let rule = #",{"rule-type":"table-settings","rule-id":"5","rule-name":"lob","object-locator":{"schema-name":"app","table-name":"docs"},"lob-settings":{"mode":"limited","bulk-max-size":"1"}}"#
        let tables = try await migrate(from: source, to: target, extraRules: rule)
        let docs = try #require(tables.first)
        #expect(docs.state == .completed, "\(docs.error ?? "")")
        #expect(docs.cutLobs == ["body": 1, "data": 1])
        #expect(docs.warnings.contains("1 value of app.docs.body exceeded the LOB limit of 1 KB and was cut to it (limited LOB mode)"), "\(docs.warnings)")
        #expect(try target.query("SELECT id, LENGTH(body), LENGTH(data), LENGTH(title) FROM docs ORDER BY id") == [["1", "1024", "1024", "1500"], ["2", "5", "1", "5"]])

        let strict = try await migrate(from: source, to: target, extraRules: rule) { $0.lobTruncationFailsTable = true }
        #expect(strict.first?.state == .failed)
        #expect(strict.first?.error?.contains("app.docs.body holds a value over the LOB limit of 1 KB") == true, "\(strict.first?.error ?? "")")
    }
}

@Suite("Before-image columns over real servers")
struct BeforeImageReplicationTests {
    @Test("add-before-image-columns keep an update's old values next to the new ones; inserts and loaded rows get NULL",
          arguments: [EnginePair(source: .mysql, target: .postgres), EnginePair(source: .postgres, target: .mysql)])
    func beforeImages(pair: EnginePair) async throws {
        let source = try TestDatabase.make(pair.source, label: "src"), target = try TestDatabase.make(pair.target, label: "dst")
        defer { ChangeCaptureTests.drop(source, target) }
        let accounts = source.qualified("accounts")
        try source.execute("CREATE TABLE \(accounts) (id int PRIMARY KEY, owner varchar(20), balance int);\nINSERT INTO \(accounts) VALUES (1, 'ada', 10), (2, 'alan', 20)")
        let rule = #",{"rule-type":"transformation","rule-id":"9","rule-name":"bi","rule-target":"column","object-locator":{"schema-name":"%","table-name":"accounts"},"rule-action":"add-before-image-columns","before-image-def":{"column-prefix":"was_","column-filter":"all"}}"#
        let runner = try cdcRunner(source, target, task: "cdc-test-\(UUID().uuidString.prefix(8).lowercased())", extraRules: rule)
        let running = Task { try await runner.run() }
        defer { running.cancel() }
        try await waitUntil { runner.status.snapshot().phase == .changeCapture }
        try source.execute("UPDATE \(accounts) SET balance = 15, owner = 'ada l' WHERE id = 1")
        try source.execute("INSERT INTO \(accounts) VALUES (3, 'grace', 30)")
        try await waitForRow(target, "SELECT owner FROM \(target.qualified("accounts")) WHERE id = 3", equals: "grace")
        running.cancel()
        try await running.value
        let rows = try target.query("SELECT id, owner, balance, was_id, was_owner, was_balance FROM \(target.qualified("accounts")) ORDER BY id")
        // MySQL logs the whole old row; PostgreSQL (default replica identity) logs no old row for an update
        // that keeps the key, so only the key's before image is known there.
        let old: [String?] = pair.source == .mysql ? ["1", "ada", "10"] : ["1", nil, nil]
        #expect(rows == [["1", "ada l", "15"] + old, ["2", "alan", "20", nil, nil, nil], ["3", "grace", "30", nil, nil, nil]])
    }
}

@Suite("Soft deletes over real servers")
struct SoftDeleteTests {
    @Test("operation_indicator keeps deleted rows on the target, flagged; inserts and updates carry their flags",
          arguments: [EnginePair(source: .postgres, target: .mysql), EnginePair(source: .mysql, target: .postgres)])
    func softDeletes(pair: EnginePair) async throws {
        let source = try TestDatabase.make(pair.source, label: "src"), target = try TestDatabase.make(pair.target, label: "dst")
        defer { ChangeCaptureTests.drop(source, target) }
        let items = source.qualified("items")
        try source.execute("CREATE TABLE \(items) (id int PRIMARY KEY, name varchar(20));\nINSERT INTO \(items) VALUES (1, 'a'), (2, 'b'), (3, 'c')")
        let rule = #",{"rule-type":"transformation","rule-id":"9","rule-name":"flag","rule-target":"column","object-locator":{"schema-name":"%","table-name":"items"},"rule-action":"add-column","value":"op","expression":"operation_indicator('D', 'U', 'I')","data-type":{"type":"string","length":1}}"#
        let runner = try cdcRunner(source, target, task: "cdc-test-\(UUID().uuidString.prefix(8).lowercased())", extraRules: rule)
        let running = Task { try await runner.run() }
        defer { running.cancel() }
        try await waitUntil { runner.status.snapshot().phase == .changeCapture }
        try source.execute("DELETE FROM \(items) WHERE id = 2")
        try source.execute("UPDATE \(items) SET name = 'cc' WHERE id = 3")
        try source.execute("INSERT INTO \(items) VALUES (4, 'd')")
        try await waitForRow(target, "SELECT op FROM \(target.qualified("items")) WHERE id = 4", equals: "I")
        running.cancel()
        try await running.value
        #expect(try target.query("SELECT id, name, op FROM \(target.qualified("items")) ORDER BY id")
            == [["1", "a", "I"], ["2", "b", "D"], ["3", "cc", "U"], ["4", "d", "I"]])
        // Validation leaves the rows flagged deleted out of the target's side: they are not the source's.
        let validation = try await validate(source, target, extraRules: rule)
        #expect(validation.allSatisfy { $0.matches } && validation.first?.targetRows == 3, "\(summary(validation))")
    }
}

@Suite("Tasks without LOBs over real servers")
struct NoLobTests {
    @Test("SupportLobs false leaves text, JSON and binary LOB columns out (keys stay); validation skips them")
    func withoutLobs() async throws {
        let source = try TestDatabase.make(.postgres, label: "src"), target = try TestDatabase.make(.mysql, label: "dst")
        defer { source.drop(); target.drop() }
        try source.execute("""
            CREATE TABLE app.docs (code text PRIMARY KEY, title varchar(20), body text, meta jsonb, data bytea);
            INSERT INTO app.docs VALUES ('a', 'first', 'long', '{"k": 1}', '\\x00')
            """)
        let tables = try await migrate(from: source, to: target) { $0.supportLobs = false }
        #expect(tables.first?.state == .completed, "\(tables.first?.error ?? "")")
        #expect(try target.columnNames("docs") == ["code", "title"], "the text key stays; the LOBs do not")
        var validation = ValidationOptions()
        validation.skipLobColumns = true
        let results = try await validate(source, target, options: validation)
        #expect(results.allSatisfy { $0.matches }, "\(summary(results))")
    }
}

@Suite("parallel-load partitions-list over real servers")
struct PartitionLoadTests {
    @Test("each named partition is read on its own and the others together, so every row lands once; mistakes name the rule")
    func partitionsList() async throws {
        let source = try TestDatabase.make(.mysql, label: "src"), target = try TestDatabase.make(.postgres, label: "dst")
        defer { source.drop(); target.drop() }
        try source.execute("""
            CREATE TABLE sales (id int PRIMARY KEY, amount int) PARTITION BY RANGE (id) (
              PARTITION p0 VALUES LESS THAN (100), PARTITION p1 VALUES LESS THAN (200), PARTITION p2 VALUES LESS THAN MAXVALUE);
            INSERT INTO sales SELECT seq, seq * 2 FROM seq_1_to_300
            """)
        func rule(_ partitions: String) -> String {
            #",{"rule-type":"table-settings","rule-id":"7","rule-name":"p","object-locator":{"schema-name":"SCHEMA","table-name":"sales"},"parallel-load":{"type":"partitions-list","partitions":\#(partitions)}}"#
                .replacingOccurrences(of: "SCHEMA", with: source.schema)
        }
        let loaded = try #require(try await migrate(from: source, to: target, extraRules: rule(#"["p0","p2"]"#)).first)
        #expect(loaded.state == .completed, "\(loaded.error ?? "")")
        #expect(loaded.chunks == 3, "p0, p2, and p1 with the partitions not named")
        #expect(try target.query("SELECT count(*), count(DISTINCT id), sum(amount) FROM \(target.qualified("sales"))") == [["300", "300", "90300"]])

        let missing = try #require(try await migrate(from: source, to: target, extraRules: rule(#"["p9"]"#)).first)
        #expect(missing.error == "rule '7'.parallel-load.partitions: \(source.schema).sales has no partition 'p9' (it has p0, p1, p2)")

        let postgres = try TestDatabase.make(.postgres, label: "src2")
        defer { postgres.drop() }
        try postgres.execute("CREATE TABLE app.sales (id int PRIMARY KEY)")
        let rules = rule(#"["p0"]"#).replacingOccurrences(of: source.schema, with: "app")
        let refused = try #require(try await migrate(from: postgres, to: target, extraRules: rules).first)
        #expect(refused.error?.contains("partitions-list needs a MySQL/MariaDB source") == true, "\(refused.error ?? "")")
    }
}
