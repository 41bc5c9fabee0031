@testable import FerryPostgres
import FerryCore
import Testing

@Suite struct CopyTextCodecTests {
    func decode(_ text: String) -> [String?] {
        Array(text.utf8).withUnsafeBytes { CopyTextCodec.decodeRow($0) }.map { $0.map { String(decoding: $0, as: UTF8.self) } }
    }

    @Test func splitsFieldsAndReadsNull() {
        #expect(decode("1\t\\N\tabc\n") == ["1", nil, "abc"])
        #expect(decode("\t") == ["", ""])
        #expect(decode("\\\\N") == ["\\N"])
    }

    @Test func unescapesEverySequence() {
        #expect(decode("a\\tb\\nc\\\\d\\re") == ["a\tb\nc\\d\re"])
        #expect(decode("\\101\\x42") == ["AB"])
    }

    @Test func encodeThenDecodeIsIdentity() throws {
        let original = "tab\t nl\n cr\r back\\slash 🦤 \\N"
        var out: [UInt8] = []
        CopyTextCodec.appendEscaped(original.utf8, to: &out)
        #expect(out.withUnsafeBytes { CopyTextCodec.decodeRow($0) }.first??.elementsEqual(original.utf8) == true)
    }

    @Test func valuesForColumnTypes() throws {
        #expect(PostgresValueCodec.decode(Array("\\x00ff".utf8), as: .blob) == .bytes([0, 255]))
        #expect(PostgresValueCodec.decode(Array("{1,NULL,3}".utf8), as: .array(element: .integer(bytes: 4, unsigned: false)))
            == .array([.int(1), .null, .int(3)]))
        var out: [UInt8] = []
        #expect(throws: FerryError.self) {
            try PostgresValueCodec.encode(.text("nul\u{0}here"), as: .text, column: "t.c", into: &out)
        }
    }
}

@Suite struct ArrayLiteralTests {
    @Test func parsesQuotingNestingAndNull() {
        #expect(ArrayLiteral.parse(#"{"a b","q\"uote",NULL,plain}"#) == [.text("a b"), .text("q\"uote"), .null, .text("plain")])
        #expect(ArrayLiteral.parse("{{1,2},{3,4}}") == [.array([.text("1"), .text("2")]), .array([.text("3"), .text("4")])])
        #expect(ArrayLiteral.parse("{}") == [])
        #expect(ArrayLiteral.parse("{\"NULL\"}") == [.text("NULL")])
        #expect(ArrayLiteral.parse("{1,2") == nil)
    }

    @Test func formatsWhatItParses() {
        let values: [Value] = [.text("x y"), .text("q\"uote\\"), .null, .array([.int(1)])]
        let literal = ArrayLiteral.format(values) { $0.textForm ?? "" }
        #expect(literal == #"{"x y","q\"uote\\",NULL,{"1"}}"#)
        #expect(ArrayLiteral.parse(literal) == [.text("x y"), .text("q\"uote\\"), .null, .array([.text("1")])])
    }
}

@Suite struct PostgresTypesTests {
    @Test func numericTypmodGivesPrecisionAndScale() {
        let t = PostgresTypes.CatalogType(formatted: "numeric(40,10)", typeName: "numeric", typeType: "b", typeModifier: (40 << 16 | 10) + 4,
                                          elementName: nil, elementType: nil, enumLabels: [])
        #expect(PostgresTypes.neutral(t) == .decimal(precision: 40, scale: 10))
        #expect(PostgresTypes.ddl(for: .integer(bytes: 8, unsigned: true), enumTypeName: nil) == "numeric(20,0)")
        #expect(PostgresTypes.literalDefault("'it''s'::character varying") == .text("it's"))
        #expect(PostgresTypes.literalDefault("nextval('s'::regclass)") == nil)
    }
}

@Suite struct PassthroughChoiceTests {
    static func plan(_ types: [ColumnType]) -> TablePlan {
        TablePlan(identity: TableSchema(id: TableID(schema: "s", name: "t"), engine: .postgres,
                                        columns: types.enumerated().map { Column(name: "c\($0.offset)", type: $0.element, nativeType: "x", nullable: true) },
                                        primaryKey: []))
    }

    @Test func binaryOnlyForBuiltInTypesIntoTablesFerryCreates() {
        let source = PostgresSource(url: ConnectionURL(engine: .postgres))
        let target = PostgresTarget(url: ConnectionURL(engine: .postgres))
        let builtin = Self.plan([.integer(bytes: 8, unsigned: false), .array(element: .text), .json])
        let userType = Self.plan([.integer(bytes: 4, unsigned: false), .enumeration(values: ["a"])])
        #expect(source.nativeEncodings(for: builtin) == [PostgresTarget.copyBinary, PostgresTarget.copyText])
        #expect(source.nativeEncodings(for: userType) == [PostgresTarget.copyText])
        #expect(target.accepts(PostgresTarget.copyBinary, for: builtin, mode: .dropAndCreate))
        #expect(!target.accepts(PostgresTarget.copyBinary, for: builtin, mode: .doNothing))
        #expect(target.accepts(PostgresTarget.copyText, for: builtin, mode: .truncateBeforeLoad))
    }
}
