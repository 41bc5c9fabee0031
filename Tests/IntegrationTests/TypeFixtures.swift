import FerryCore
import Foundation

/// Per source engine: a table with every supported type, typical and edge values, and a row of NULLs.
enum TypeFixtures {
    /// Text that exercises escaping: tab, newline, carriage return, backslash, quotes, 4-byte emoji, combining marks.
    static let trickyText = "tab\there\nnew line\r\\back\\slash 'single' \"double\" 🦤🚀 e\u{301} 中文 \\N end"
    /// Every byte value once.
    static let allBytesHex = Hex.encode((0...255).map { UInt8($0) })
    static let bigNumeric = "123456789012345678901234567890.1234567891"

    static func create(in db: TestDatabase) throws {
        let s = db.schema
        switch db.engine {
        case .postgres:
            let text = trickyText.replacingOccurrences(of: "'", with: "''")
            try db.execute("""
                CREATE TYPE \(s).mood AS ENUM ('sad', 'ok', 'happy');
                CREATE TABLE \(s).all_types (
                  id integer PRIMARY KEY, c_bool boolean, c_int2 smallint, c_int4 integer, c_int8 bigint,
                  c_numeric numeric(40,10), c_numeric_free numeric, c_real real, c_double double precision,
                  c_char char(5), c_varchar varchar(100), c_text text, c_bytea bytea,
                  c_date date, c_time time(6), c_ts timestamp(6), c_tstz timestamptz(6),
                  c_json json, c_jsonb jsonb, c_uuid uuid, c_enum \(s).mood, c_int_array integer[], c_text_array text[],
                  c_interval interval, c_bit bit(8), c_varbit varbit(16), c_inet inet
                );
                INSERT INTO \(s).all_types VALUES
                  (1, true, 12, 1234, 123456789012, 3.14, 2.5, 1.5, 2.718281828459045, 'ab', 'hello', 'plain text', '\\x0001ff',
                   '2024-02-29', '12:34:56.789', '2024-01-02 03:04:05.123456', '2024-01-02 03:04:05.123456+02',
                   '{"a": [1, 2, {"b": null}]}', '{"k": "v"}', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', 'happy',
                   '{1,2,3}', '{"x y","q\\"uote",NULL}', '1 year 2 mons 3 days 04:05:06.5', B'10101010', B'101', '192.168.0.1/24'),
                  (2, false, -32768, -2147483648, -9223372036854775808, -\(bigNumeric), \(bigNumeric), -3.25e38, 1.7976931348623157e308,
                   '', E'\(text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\t", with: "\\t").replacingOccurrences(of: "\n", with: "\\n").replacingOccurrences(of: "\r", with: "\\r"))'::varchar(100), '', '\\x\(allBytesHex)',
                   '1000-01-01', '00:00:00', '9999-12-31 23:59:59.999999', '1970-01-01 00:00:00.000001+00',
                   '[]', '{"emoji": "🦤", "n": 1.5}', '00000000-0000-0000-0000-000000000000', 'sad',
                   '{}', '{"tab\\there"}', 'P0D', B'00000000', B'', '::1'),
                  (3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
                   NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
                  (4, true, 32767, 2147483647, 9223372036854775807, 0.0000000001, 0, 0, -0.5, 'abcde',
                   E'\(text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\t", with: "\\t").replacingOccurrences(of: "\n", with: "\\n").replacingOccurrences(of: "\r", with: "\\r"))',
                   E'\(text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\t", with: "\\t").replacingOccurrences(of: "\n", with: "\\n").replacingOccurrences(of: "\r", with: "\\r"))', '\\x',
                   '2000-01-01', '23:59:59.999999', '2000-01-01 00:00:00', '2038-01-19 03:14:07.999999+00',
                   '"just a string"', '[1, "two", null]', 'ffffffff-ffff-ffff-ffff-ffffffffffff', 'ok',
                   '{-1,0,NULL}', '{""}', '-1 days -02:00:00', B'11111111', B'1111111111111111', '10.0.0.1')
                """)
        case .mysql:
            let text = MySQLText.literal(trickyText)
            try db.execute("""
                CREATE TABLE all_types (
                  id int PRIMARY KEY, c_bool tinyint(1), c_tiny tinyint, c_utiny tinyint unsigned, c_small smallint,
                  c_usmall smallint unsigned, c_medium mediumint, c_umedium mediumint unsigned, c_int int, c_uint int unsigned,
                  c_big bigint, c_ubig bigint unsigned, c_decimal decimal(40,10), c_float float, c_double double,
                  c_char char(5), c_varchar varchar(100), c_text text, c_longtext longtext, c_binary binary(4),
                  c_varbinary varbinary(300), c_blob blob, c_date date, c_time time(6), c_datetime datetime(6),
                  c_timestamp timestamp(6) NULL DEFAULT NULL, c_year year, c_json json, c_enum enum('small','medium','large'),
                  c_set set('a','b','c'), c_bit bit(10), c_uuid uuid
                ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
                INSERT INTO all_types VALUES
                  (1, 1, 12, 200, 1234, 60000, 123456, 16000000, 1234567, 4000000000, 123456789012, 18446744073709551615,
                   3.14, 1.5, 2.718281828459045, 'ab', 'hello', 'plain text', 'long text', X'00010203', X'0001ff', X'deadbeef',
                   '2024-02-29', '12:34:56.789', '2024-01-02 03:04:05.123456', '2024-01-02 03:04:05.123456', 2024,
                   '{"a": [1, 2, {"b": null}]}', 'medium', 'a,c', b'1010101010', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'),
                  (2, 0, -128, 0, -32768, 0, -8388608, 0, -2147483648, 0, -9223372036854775808, 0,
                   -\(bigNumeric), -2.25, 1.7976931348623157e308, '', \(text), '', \(text), X'00000000', X'\(allBytesHex)', X'\(allBytesHex)',
                   '1000-01-01', '00:00:00', '9999-12-31 23:59:59.999999', '1970-01-01 00:00:01.000001', 1901,
                   '[]', 'small', '', b'0000000000', '00000000-0000-0000-0000-000000000000'),
                  (3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
                   NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
                  (4, 1, 127, 255, 32767, 65535, 8388607, 16777215, 2147483647, 4294967295, 9223372036854775807, 9223372036854775808,
                   \(bigNumeric), 1e10, -0.5, 'abcde', 'x', \(text), '', X'ffffffff', X'', X'',
                   '2000-01-01', '23:59:59.999999', '2000-01-01 00:00:00', '2038-01-19 03:14:07.999999', 2155,
                   '{"emoji": "🦤"}', 'large', 'a,b,c', b'1111111111', 'ffffffff-ffff-ffff-ffff-ffffffffffff')
                """)
        case .sqlite:
            let text = trickyText.replacingOccurrences(of: "'", with: "''")
            try db.execute("""
                CREATE TABLE all_types (
                  id INTEGER PRIMARY KEY, c_bool BOOLEAN, c_int INTEGER, c_real REAL, c_decimal DECIMAL_TEXT(40,10),
                  c_text TEXT, c_varchar VARCHAR(100), c_blob BLOB, c_date DATE, c_time TIME, c_datetime DATETIME,
                  c_tstz TIMESTAMPTZ, c_json JSON_TEXT, c_uuid UUID
                );
                INSERT INTO all_types VALUES
                  (1, 1, 42, 1.5, '3.14', 'plain text', 'hello', X'0001ff', '2024-02-29', '12:34:56.789',
                   '2024-01-02 03:04:05.123456', '2024-01-02 03:04:05.123456+00', '{"a": [1, 2]}', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'),
                  (2, 0, -9223372036854775808, -2.25e300, '-\(bigNumeric)', '\(text)', '', X'\(allBytesHex)', '1000-01-01', '00:00:00',
                   '9999-12-31 23:59:59.999999', '1970-01-01 00:00:00.000001+00', '[]', '00000000-0000-0000-0000-000000000000'),
                  (3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
                  (4, 1, 9223372036854775807, -0.5, '\(bigNumeric)', '', '\(text)', X'', '2000-01-01', '23:59:59.999999',
                   '2000-01-01 00:00:00', '2038-01-19 03:14:07.999999+00', '{"emoji": "🦤"}', 'ffffffff-ffff-ffff-ffff-ffffffffffff');
                """)
        }
    }
}

enum MySQLText {
    static func literal(_ text: String) -> String {
        "'" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "'", with: "\\'")
            .replacingOccurrences(of: "\n", with: "\\n").replacingOccurrences(of: "\r", with: "\\r").replacingOccurrences(of: "\t", with: "\\t") + "'"
    }
}

/// The comparable form of a value under the documented type mapping: what must be equal on both
/// sides for the copy to count as exact.
enum Canonical {
    static func form(_ value: Value, as type: ColumnType) -> String? {
        switch value {
        case .null: return nil
        case let .bool(b): return b ? "true" : "false"
        case let .int(i):
            if case .boolean = type { return i != 0 ? "true" : "false" }
            return String(i)
        case let .uint(u): return String(u)
        case let .double(d):
            if case .float32 = type { return Value.canonicalDouble(Double(Float(d))) }
            return Value.canonicalDouble(d)
        case let .bytes(b): return "0x" + Hex.encode(b)
        case let .array(values): return JSONText.array(values)
        case let .text(t):
            switch type {
            case .boolean: return ["t", "1", "true"].contains(t) ? "true" : "false"
            case .decimal, .integer: return decimal(t)
            case .float32, .float64: return Double(t).map { form(.double($0), as: type) ?? t } ?? t
            case .timestampTZ: return fraction(TemporalText.utcWithoutOffset(t) ?? t)
            case .timestamp, .time: return fraction(t)
            case .array: return t.replacingOccurrences(of: ", ", with: ",")
            case .char: return String(t.reversed().drop { $0 == " " }.reversed())
            default: return t
            }
        }
    }

    /// Drops trailing fractional zeros: `1.500` → `1.5`, `2.000` → `2`.
    static func decimal(_ t: String) -> String {
        guard t.contains("."), !t.contains("e"), !t.contains("E") else { return t }
        var s = t
        while s.hasSuffix("0") { s.removeLast() }
        if s.hasSuffix(".") { s.removeLast() }
        return s == "-0" ? "0" : s
    }

    /// Drops trailing zeros of a seconds fraction: `03:04:05.120000` → `03:04:05.12`.
    static func fraction(_ t: String) -> String {
        guard let dot = t.lastIndex(of: ".") else { return t }
        var s = t
        while s.hasSuffix("0"), s.index(before: s.endIndex) > dot { s.removeLast() }
        if s.hasSuffix(".") { s.removeLast() }
        return s
    }
}
