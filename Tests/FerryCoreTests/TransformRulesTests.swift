import Crypto
import FerryCore
import Foundation
import Testing

@Suite struct TransformRulesTests {
    static let people = TableSchema(
        id: TableID(schema: "hr", name: "people"), engine: .postgres,
        columns: [
            Column(name: "id", type: .integer(bytes: 4, unsigned: false), nativeType: "integer", nullable: false),
            Column(name: "FIRST_NAME", type: .varchar(length: 20), nativeType: "varchar(20)", nullable: true),
            Column(name: "LAST_NAME", type: .varchar(length: 20), nativeType: "varchar(20)", nullable: true),
            Column(name: "phone", type: .varchar(length: 20), nativeType: "varchar(20)", nullable: true),
            Column(name: "price", type: .decimal(precision: 8, scale: 2), nativeType: "numeric(8,2)", nullable: true),
        ],
        primaryKey: ["id"])

    /// The mapping with these transformation rules after an include-all selection.
    static func mappings(_ rules: String) throws -> TableMappings {
        try TableMappings(json: """
            {"rules": [{"rule-type": "selection", "rule-id": "1", "rule-name": "1", "object-locator": {"schema-name": "hr", "table-name": "%"}, "rule-action": "include"}\(rules)]}
            """)
    }

    static func message(_ body: () throws -> Void) -> String {
        do { try body(); return "no error" } catch { return "\(error)" }
    }

    @Test func addColumnEvaluatesSQLiteExpressionsOverColumnsHeadersAndMetadata() throws {
        let plan = try Self.mappings("""
            ,{"rule-type": "transformation", "rule-id": "2", "rule-name": "2", "rule-target": "column", "object-locator": {"schema-name": "hr", "table-name": "people"},
              "rule-action": "add-column", "value": "FULL_NAME", "expression": "$FIRST_NAME||'_'||$LAST_NAME", "data-type": {"type": "string", "length": 50}}
            ,{"rule-type": "transformation", "rule-id": "3", "rule-name": "3", "rule-target": "column", "object-locator": {"schema-name": "hr", "table-name": "people"},
              "rule-action": "add-column", "value": "flag", "expression": "CASE WHEN $AR_H_OPERATION = 'UPDATE' THEN 'U' ELSE 'I' END", "data-type": {"type": "string", "length": 1}}
            ,{"rule-type": "transformation", "rule-id": "4", "rule-name": "4", "rule-target": "column", "object-locator": {"schema-name": "hr", "table-name": "people"},
              "rule-action": "add-column", "value": "gross", "expression": "round($price * 1.2, 2)", "data-type": {"type": "numeric", "precision": 10, "scale": 2}}
            ,{"rule-type": "transformation", "rule-id": "5", "rule-name": "5", "rule-target": "column", "object-locator": {"schema-name": "hr", "table-name": "people"},
              "rule-action": "add-column", "value": "origin", "expression": "$AR_M_SOURCE_SCHEMA||'.'||$AR_M_SOURCE_TABLE_NAME", "data-type": {"type": "string", "length": 40}}
            ,{"rule-type": "transformation", "rule-id": "6", "rule-name": "6", "rule-target": "column", "object-locator": {"schema-name": "hr", "table-name": "people"},
              "rule-action": "add-column", "value": "loaded_at", "expression": "$AR_H_COMMIT_TIMESTAMP", "data-type": {"type": "datetime", "scale": 6}}
            """).plan(for: Self.people)
        #expect(plan.written.columns.map(\.targetName) == ["id", "FIRST_NAME", "LAST_NAME", "phone", "price", "FULL_NAME", "flag", "gross", "origin", "loaded_at"])
        #expect(plan.transformsValues)
        let transformer = try RowTransformer(plan: plan)
        let header = ChangeHeader(operation: "UPDATE", commitTime: Date(timeIntervalSince1970: 1_700_000_000.25), streamPosition: "0/1")
        let row = try transformer.apply([.int(1), .text("Ada"), .text("Lovelace"), .text("555"), .text("10.00")], header: header)
        #expect(row.suffix(5) == [.text("Ada_Lovelace"), .text("U"), .text("12.0"), .text("hr.people"), .text("2023-11-14 22:13:20.250000")])
        // A value the change did not carry leaves the computed columns that read it unknown (nil).
        let partial = try transformer.apply([.int(1), nil, .text("Lovelace"), .text("555"), .text("10.00")], header: header)
        #expect(partial[5] == nil && partial[6] == .text("U"))
        // NULL in, NULL out, as in SQLite.
        let nulls = try transformer.apply(rows: [[.int(2), .null, .text("x"), .null, .null]], header: .fullLoad())
        #expect(nulls[0][5] == .null && nulls[0][6] == .text("I") && nulls[0][7] == .null)
    }

    @Test("$AR_H_CHANGE_SEQ: the commit time to the hundredth, then the change's 19-digit number; empty in the full load")
    func changeSequence() throws {
        let plan = try Self.mappings("""
            ,{"rule-type": "transformation", "rule-id": "2", "rule-name": "2", "rule-target": "column", "object-locator": {"schema-name": "hr", "table-name": "people"},
              "rule-action": "add-column", "value": "seq", "expression": "$AR_H_CHANGE_SEQ", "data-type": {"type": "string", "length": 35}}
            """).plan(for: Self.people)
        let transformer = try RowTransformer(plan: plan)
        let row: [Value?] = [.int(1), .text("Ada"), .text("Lovelace"), .text("555"), .text("10.00")]
        let moment = Date(timeIntervalSince1970: 1_700_000_000.256789)
        let changed = try transformer.apply(row, header: ChangeHeader(operation: "UPDATE", commitTime: moment, streamPosition: "0/1", changeNumber: 35))
        #expect(changed.last == .text("2023111422132025" + "0000000000000000035"))
        let next = ChangeHeader.changeSequence(commitTime: moment, changeNumber: 36)
        #expect(next.count == 35 && next > "20231114221320250000000000000000035")
        #expect(try transformer.apply(row, header: .fullLoad()).last == .text(""))
    }

    @Test func expressionMistakesNameTheRuleAndTheField() throws {
        func addColumn(_ expression: String) -> String {
            #",{"rule-type": "transformation", "rule-id": "9", "rule-name": "9", "rule-target": "column", "object-locator": {"schema-name": "hr", "table-name": "people"}, "rule-action": "add-column", "value": "x", "expression": "\#(expression)", "data-type": {"type": "string", "length": 5}}"#
        }
        #expect(Self.message { _ = try Self.mappings(addColumn("$FIRST_NAME ||")) }.hasPrefix("rule '9'.expression: does not parse as a SQLite expression"))
        #expect(Self.message { _ = try Self.mappings(addColumn("1); DROP TABLE t; SELECT (1")) }.contains("rule '9'.expression"))
        #expect(Self.message { _ = try Self.mappings(addColumn("upper(:name)")) }.contains("write columns and headers as $NAME"))
        #expect(Self.message { _ = try Self.mappings(addColumn("$MIDDLE_NAME")).plan(for: Self.people) }
            == "rule '9'.expression: column 'MIDDLE_NAME' is not a column of hr.people that the task copies")
        #expect(Self.message { _ = try Self.mappings(addColumn("$AR_H_NOPE")).plan(for: Self.people) }.contains("$AR_H_NOPE is not supported"))
        #expect(Self.message { _ = try Self.mappings(addColumn("soundex_plus($FIRST_NAME)")) }.contains("no such function: soundex_plus"))
        #expect(Self.message { _ = try Self.mappings(addColumn("operation_indicator('D', 'U')")) }.contains("wrong number of arguments"))
        let existing = #",{"rule-type": "transformation", "rule-id": "9", "rule-name": "9", "rule-target": "column", "object-locator": {"schema-name": "hr", "table-name": "people"}, "rule-action": "add-column", "value": "phone", "data-type": {"type": "int4"}}"#
        #expect(Self.message { _ = try Self.mappings(existing).plan(for: Self.people) } == "rule '9'.value: hr.people already has a column 'phone'")
        let noType = #",{"rule-type": "transformation", "rule-id": "9", "rule-name": "9", "rule-target": "column", "object-locator": {"schema-name": "hr", "table-name": "people"}, "rule-action": "add-column", "value": "x"}"#
        #expect(Self.message { _ = try Self.mappings(noType) } == "rule '9'.data-type: is required for add-column")
        let badType = #",{"rule-type": "transformation", "rule-id": "9", "rule-name": "9", "rule-target": "column", "object-locator": {"schema-name": "hr", "table-name": "people"}, "rule-action": "add-column", "value": "x", "data-type": {"type": "varchar2"}}"#
        #expect(Self.message { _ = try Self.mappings(badType) }.hasPrefix("rule '9'.data-type.type: unknown data type 'varchar2'"))
    }

    @Test func anExpressionResultMustFitItsColumnType() throws {
        let plan = try Self.mappings("""
            ,{"rule-type": "transformation", "rule-id": "2", "rule-name": "2", "rule-target": "column", "object-locator": {"schema-name": "hr", "table-name": "people"},
              "rule-action": "add-column", "value": "n", "expression": "$FIRST_NAME", "data-type": {"type": "int4"}}
            """).plan(for: Self.people)
        let transformer = try RowTransformer(plan: plan)
        #expect(try transformer.apply([.int(1), .text("42"), nil, nil, nil], header: .fullLoad())[5] == .int(42))
        #expect(Self.message { _ = try transformer.apply([.int(1), .text("Ada"), nil, nil, nil], header: .fullLoad()) }
            == "column 'n' of add-column rule '2': 'Ada' is not an integer")
    }

    @Test func maskingFollowsDMSAndKeepsKeysAlone() throws {
        #expect(DataMasking.digitsMask("#").mask(.text("C6BGJ56669K")) == .text("C#BGJ#####K"))
        #expect(DataMasking.digitsMask("#").mask(.null) == .null)
        let hash = SHA256.hash(data: Array("abc".utf8)).map { String(format: "%02x", $0) }.joined()
        #expect(DataMasking.hashMask.mask(.text("abc")) == .text(hash))
        #expect(hash == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        guard case let .text(random) = DataMasking.digitsRandomize.mask(.text("AB-1234-xy")) else { Issue.record("not text"); return }
        #expect(random.count == 10 && random.hasPrefix("AB-") && random.hasSuffix("-xy") && random.dropFirst(3).prefix(4).allSatisfy(\.isNumber))
        #expect(DataMasking.hashMask.writtenType(for: .varchar(length: 20)) == .varchar(length: 64))
        #expect(DataMasking.digitsMask("*").writtenType(for: .integer(bytes: 4, unsigned: false)) == .text)

        let plan = try Self.mappings("""
            ,{"rule-type": "transformation", "rule-id": "2", "rule-name": "2", "rule-target": "column", "object-locator": {"schema-name": "hr", "table-name": "people", "column-name": "phone"},
              "rule-action": "data-masking-digits-mask", "value": "*"}
            """).plan(for: Self.people)
        #expect(try RowTransformer(plan: plan).apply([.int(7), nil, nil, .text("+44 20 7946"), nil], header: .fullLoad())
            == [.int(7), nil, nil, .text("+** ** ****"), nil])
        let onKey = #",{"rule-type": "transformation", "rule-id": "3", "rule-name": "3", "rule-target": "column", "object-locator": {"schema-name": "hr", "table-name": "people", "column-name": "id"}, "rule-action": "data-masking-hash-mask"}"#
        #expect(Self.message { _ = try Self.mappings(onKey).plan(for: Self.people) }.contains("is part of the primary key of hr.people"))
        let badMask = ###",{"rule-type": "transformation", "rule-id": "3", "rule-name": "3", "rule-target": "column", "object-locator": {"schema-name": "hr", "table-name": "people", "column-name": "phone"}, "rule-action": "data-masking-digits-mask", "value": "##"}"###
        #expect(Self.message { _ = try Self.mappings(badMask) } == "rule '3'.value: must be one printable ASCII character that is not a space")
    }

    @Test func changeDataTypeCanPickColumnsByTheirDMSType() throws {
        let plan = try Self.mappings("""
            ,{"rule-type": "transformation", "rule-id": "2", "rule-name": "2", "rule-target": "column",
              "object-locator": {"schema-name": "hr", "table-name": "people", "column-name": "%", "data-type": "numeric"},
              "rule-action": "change-data-type", "data-type": {"type": "real8"}}
            """).plan(for: Self.people)
        #expect(plan.columns.map(\.targetType) == [nil, nil, nil, nil, .float64], "only the numeric column is retyped")
        let wrong = #",{"rule-type": "transformation", "rule-id": "2", "rule-name": "2", "rule-target": "column", "object-locator": {"schema-name": "hr", "table-name": "people", "column-name": "%", "data-type": "money"}, "rule-action": "change-data-type", "data-type": {"type": "real8"}}"#
        #expect(Self.message { _ = try Self.mappings(wrong) }.hasPrefix("rule '2'.object-locator.data-type: unknown data type 'money'"))
    }

    @Test func changeDataTypeAndDefinePrimaryKeyShapeTheWrittenTable() throws {
        let plan = try Self.mappings("""
            ,{"rule-type": "transformation", "rule-id": "2", "rule-name": "2", "rule-target": "column", "object-locator": {"schema-name": "hr", "table-name": "people", "column-name": "price"},
              "rule-action": "change-data-type", "data-type": {"type": "string", "length": 12}}
            ,{"rule-type": "transformation", "rule-id": "3", "rule-name": "3", "rule-target": "column", "object-locator": {"schema-name": "hr", "table-name": "people", "column-name": "LAST_NAME"},
              "rule-action": "rename", "value": "surname"}
            ,{"rule-type": "transformation", "rule-id": "4", "rule-name": "4", "rule-target": "table", "object-locator": {"schema-name": "hr", "table-name": "people"},
              "rule-action": "define-primary-key", "primary-key-def": {"name": "people_pk", "origin": "primary-key", "columns": ["FIRST_NAME", "surname"]}}
            """).plan(for: Self.people)
        let written = plan.written
        #expect(written.columns.first { $0.targetName == "price" }?.source.type == .varchar(length: 12))
        #expect(written.columns.first { $0.targetName == "price" }?.source.nativeType == "")
        #expect(plan.keyNames == ["FIRST_NAME", "LAST_NAME"])
        #expect(plan.targetPrimaryKey == ["FIRST_NAME", "surname"])
        #expect(written.source.primaryKey == ["FIRST_NAME", "LAST_NAME"])
        #expect(plan.source.primaryKey == ["id"], "the source is read as it is")

        let unique = try Self.mappings("""
            ,{"rule-type": "transformation", "rule-id": "4", "rule-name": "4", "rule-target": "table", "object-locator": {"schema-name": "hr", "table-name": "people"},
              "rule-action": "define-primary-key", "primary-key-def": {"name": "people_phone", "origin": "unique-index", "columns": ["phone"]}}
            """).plan(for: Self.people).written
        #expect(unique.source.primaryKey == ["id"])
        #expect(unique.source.indexes.contains(IndexDefinition(name: "people_phone", columns: ["phone"], unique: true)))

        func keyRule(_ definition: String, table: String = "people") -> String {
            #",{"rule-type": "transformation", "rule-id": "5", "rule-name": "5", "rule-target": "table", "object-locator": {"schema-name": "hr", "table-name": "\#(table)"}, "rule-action": "define-primary-key", "primary-key-def": \#(definition)}"#
        }
        #expect(Self.message { _ = try Self.mappings(keyRule(#"{"name": "k", "columns": ["nope"]}"#)).plan(for: Self.people) }
            == "rule '5'.primary-key-def.columns: column 'nope' is not a column of hr.people that the task copies")
        #expect(Self.message { _ = try Self.mappings(keyRule(#"{"name": "k", "origin": "index", "columns": ["id"]}"#)) }
            .hasPrefix("rule '5'.primary-key-def.origin: 'index' is not an origin"))
        #expect(Self.message { _ = try Self.mappings(keyRule(#"{"name": "k", "columns": []}"#)) } == "rule '5'.primary-key-def.columns: is required: a list of column names")
        // No wildcards: '%' names a table called '%', which matches nothing else.
        #expect(try Self.mappings(keyRule(#"{"name": "k", "columns": ["phone"]}"#, table: "%")).plan(for: Self.people).definedKey == nil)
    }
}

@Suite struct BeforeImageTests {
    static func plan(_ definition: String) throws -> TablePlan {
        try TransformRulesTests.mappings("""
            ,{"rule-type": "transformation", "rule-id": "2", "rule-name": "2", "rule-target": "column", "object-locator": {"schema-name": "hr", "table-name": "%"},
              "rule-action": "add-before-image-columns"\(definition)}
            """).plan(for: TransformRulesTests.people)
    }

    @Test func beforeImageColumnsHoldAnUpdatesOldValues() throws {
        let keyOnly = try Self.plan("")
        #expect(keyOnly.written.columns.map(\.targetName).suffix(1) == ["BI_id"], "pk-only and BI_ are the defaults")
        let plan = try Self.plan(#", "before-image-def": {"column-prefix": "old_", "column-suffix": "_v", "column-filter": "non-lob"}"#)
        #expect(plan.written.columns.map(\.targetName).suffix(5) == ["old_id_v", "old_FIRST_NAME_v", "old_LAST_NAME_v", "old_phone_v", "old_price_v"])
        let transformer = try RowTransformer(plan: plan)
        let row: [Value?] = [.int(1), .text("Ada"), .text("King"), .text("555"), .text("1.00")]
        let update = ChangeHeader(operation: "UPDATE", commitTime: Date(), streamPosition: "")
        let updated = try transformer.apply(row, old: [nil, nil, .text("Byron"), nil, .text("0.50")], header: update)
        #expect(Array(updated.suffix(5)) == [.int(1), .null, .text("Byron"), .null, .text("0.50")],
                "the unchanged key is its own before image; columns the log did not carry are NULL")
        let inserted = try transformer.apply(row, header: ChangeHeader(operation: "INSERT", commitTime: Date(), streamPosition: ""))
        #expect(Array(inserted.suffix(5)) == [.null, .null, .null, .null, .null])
    }

    @Test func beforeImageMistakesAreNamed() {
        #expect(TransformRulesTests.message { _ = try Self.plan(#", "before-image-def": {"column-filter": "some"}"#) }
            == "rule '2'.before-image-def.column-filter: 'some' is not a filter; expected pk-only, non-lob or all")
        #expect(TransformRulesTests.message { _ = try Self.plan(#", "before-image-def": {"column-prefix": ""}"#) }
            .contains("column-prefix and column-suffix cannot both be empty"))
    }
}

@Suite struct LobLimitTests {
    @Test func textIsCutAtACharacterBoundaryAndBinaryAtTheByte() {
        let limit = LobLimit(bytes: 5)
        #expect(limit.cut(.text("abcdef")) == .text("abcde"))
        #expect(limit.cut(.text("abcd€")) == .text("abcd"), "the 3-byte € does not fit in the fifth byte")
        #expect(limit.cut(.text("abc")) == nil)
        #expect(limit.cut(.bytes([1, 2, 3, 4, 5, 6])) == .bytes([1, 2, 3, 4, 5]))
        #expect(limit.cut(.int(123_456_789)) == nil)
        #expect(LobLimit.kilobytes(32).bytes == 32_768)
        #expect(LobLimit.applies(to: .text) && LobLimit.applies(to: .blob) && !LobLimit.applies(to: .json))
    }

    @Test func aTransformerCountsWhatItCutsOrFailsTheTable() throws {
        let table = TableSchema(id: TableID(schema: "s", name: "docs"), engine: .postgres,
                                columns: [Column(name: "id", type: .integer(bytes: 4, unsigned: false), nativeType: "integer", nullable: false),
                                          Column(name: "body", type: .text, nativeType: "text", nullable: true),
                                          Column(name: "title", type: .varchar(length: 10), nativeType: "varchar(10)", nullable: true)],
                                primaryKey: ["id"])
        var plan = TablePlan(identity: table)
        #expect(!plan.transformsValues)
        plan.lobLimit = LobLimit(bytes: 4)
        #expect(plan.transformsValues && plan.rewritesRows)
        let transformer = try RowTransformer(plan: plan)
        let rows = try transformer.apply(rows: [[.int(1), .text("long text"), .text("long title")], [.int(2), .text("ok"), .null]], header: .fullLoad())
        #expect(rows == [[.int(1), .text("long"), .text("long title")], [.int(2), .text("ok"), .null]], "only LOB columns are limited")
        #expect(transformer.cutValues == ["body": 1])

        plan.lobLimit = LobLimit(bytes: 4, failsTable: true)
        let strict = try RowTransformer(plan: plan)
        #expect(throws: FerryError.self) { try strict.apply(rows: [[.int(1), .text("long text"), .null]], header: .fullLoad()) }
    }

    @Test func lobSettingsModesParse() throws {
        func mode(_ settings: String) throws -> TableSettingsRule.LobMode? {
            try TableMappings(json: """
                {"rules": [{"rule-type": "selection", "rule-id": "1", "rule-name": "1", "object-locator": {"schema-name": "s", "table-name": "%"}, "rule-action": "include"},
                {"rule-type": "table-settings", "rule-id": "2", "rule-name": "2", "object-locator": {"schema-name": "s", "table-name": "docs"}, "lob-settings": \(settings)}]}
                """).lobMode(of: TableID(schema: "s", name: "docs"))
        }
        #expect(try mode(#"{"mode": "limited", "bulk-max-size": "16"}"#) == .limited(kilobytes: 16))
        #expect(try mode(#"{"mode": "limited", "bulk-max-size": 8}"#) == .limited(kilobytes: 8))
        #expect(try mode(#"{"mode": "none"}"#) == TableSettingsRule.LobMode.none)
        #expect(try mode(#"{"mode": "unlimited", "bulk-max-size": "0"}"#) == .unlimited)
        #expect(TransformRulesTests.message { _ = try mode(#"{"mode": "limited"}"#) }
            .hasPrefix("rule '2'.lob-settings.bulk-max-size: is required for mode limited"))
    }
}
