@testable import FerryMySQL
import FerryCore
import Testing

@Suite struct MySQLCodecTests {
    @Test func escapesEveryDangerousByte() {
        var out: [UInt8] = []
        MySQLLiteral.appendEscaped([0, 0x0a, 0x0d, 0x5c, 0x27, 0x22, 0x1a, 0x41], to: &out)
        #expect(String(decoding: out, as: UTF8.self) == "\\0\\n\\r\\\\\\'\\\"\\ZA")
    }

    @Test func literalsForColumnTypes() throws {
        func literal(_ v: Value, _ t: ColumnType) throws -> String {
            var out: [UInt8] = []
            try MySQLLiteral.append(v, as: t, column: "t.c", to: &out)
            return String(decoding: out, as: UTF8.self)
        }
        #expect(try literal(.text("2024-01-02 01:00:00+02"), .timestampTZ(precision: 6)) == "'2024-01-01 23:00:00'")
        #expect(try literal(.text("0101"), .bit(length: 4, varying: false)) == "b'0101'")
        #expect(try literal(.bytes([0, 39]), .blob) == "_binary'\\0\\''")
        #expect(try literal(.array([.int(1), .text("a")]), .array(element: .text)) == "'[1,\\\"a\\\"]'")
        #expect(throws: FerryError.self) { try literal(.double(.infinity), .float64) }
    }

    @Test func loadDataFieldsEscapeWhatEndsAFieldOrARow() throws {
        func field(_ v: Value, _ t: ColumnType) throws -> String {
            var out: [UInt8] = []
            try MySQLLoadDataText.append(v, as: t, column: "t.c", to: &out)
            return String(decoding: out, as: UTF8.self)
        }
        #expect(try field(.text("a\tb\nc\rd\\e\u{0}f'\""), .text) == "a\\tb\\nc\\rd\\\\e\\0f'\"")
        #expect(try field(.null, .text) == "\\N")
        #expect(try field(.text("\\N"), .text) == "\\\\N", "the text \\N is not NULL")
        #expect(try field(.bytes([0x09, 0xff]), .blob) == "\\t\u{FFFD}")
        #expect(try field(.text("2024-01-02 01:00:00+02"), .timestampTZ(precision: 6)) == "2024-01-01 23:00:00")
        #expect(try field(.text("t"), .boolean) == "1")
        #expect(MySQLLoadDataText.accepts([.integer(bytes: 4, unsigned: false), .text]))
        #expect(!MySQLLoadDataText.accepts([.bit(length: 8, varying: false)]), "BIT columns read LOAD DATA's text as bytes")
    }

    @Test func enumLabelsAndTypes() {
        #expect(MySQLTypes.labels("enum('a','it''s','c\\\\d')") == ["a", "it's", "c\\d"])
        #expect(MySQLTypes.neutral(dataType: "tinyint", columnType: "tinyint(1)", length: nil, precision: 3, scale: 0, fractionDigits: nil, isJSON: false) == .boolean)
        #expect(MySQLTypes.neutral(dataType: "bigint", columnType: "bigint(20) unsigned", length: nil, precision: 20, scale: 0, fractionDigits: nil, isJSON: false) == .integer(bytes: 8, unsigned: true))
        #expect(MySQLTypes.ddl(for: .text, isKey: true, keyColumns: 2, mariaDB: true) == "varchar(384)")
    }

    @Test func bitFieldsBecomeBitStrings() {
        let bytes: [UInt8] = [0b10, 0b1010_1010]
        let value = bytes.withUnsafeBufferPointer { MySQLValueCodec.decode($0, as: .bit(length: 10, varying: false)) }
        #expect(value == .text("1010101010"))
    }
}
