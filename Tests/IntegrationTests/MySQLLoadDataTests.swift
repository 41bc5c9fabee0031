import FerryConnectors
import FerryCore
import FerryEngine
import FerryMySQL
import Foundation
import Testing

@Suite("Full load into MySQL/MariaDB through LOAD DATA LOCAL INFILE")
struct MySQLLoadDataTests {
    /// How many LOAD DATA statements the server has run (all sessions).
    static func loadStatements() throws -> Int {
        Int(try MySQLConnection(TestDatabase.serverURL(.mysql)).query("SHOW GLOBAL STATUS LIKE 'Com_load'").first?[1] ?? "") ?? 0
    }

    /// Fully loads every table of the source's `app` schema into the target's schema.
    static func loadApp(from source: TestDatabase, to target: TestDatabase) async throws -> [TableProgress] {
        let rules = """
            {"rules":[
              {"rule-type":"selection","rule-id":"1","rule-name":"all","object-locator":{"schema-name":"app","table-name":"%"},"rule-action":"include"},
              {"rule-type":"transformation","rule-id":"2","rule-name":"schema","rule-target":"schema","object-locator":{"schema-name":"app"},"rule-action":"rename","value":"\(target.schema)"}
            ]}
            """
        return try await FullLoadRunner(source: Connectors.source(for: source.url), target: Connectors.target(for: target.url),
                                        options: FullLoadOptions(mappings: try TableMappings(json: rules))).run()
    }

    @Test("values that need escaping load exactly through LOAD DATA; a table with a BIT column loads through INSERTs")
    func escapedValuesLoadExactly() async throws {
        let source = try TestDatabase.make(.postgres, label: "src"), target = try TestDatabase.make(.mysql, label: "dst")
        defer { source.drop(); target.drop() }
        try source.execute("""
            CREATE TABLE app.tricky (id int PRIMARY KEY, t text, b bytea, j jsonb, f double precision, n numeric(12,3), ts timestamptz, ok boolean);
            INSERT INTO app.tricky VALUES
              (1, E'tab\\there\\nnew line\\r\\\\back \\\\N end', '\\x00090a0d5cff4e', '{"k": "v\\tw"}', 1.5e-7, 123456789.125, '2026-01-02 03:04:05.123456+02', true),
              (2, E'\\\\N', '\\x', NULL, NULL, NULL, NULL, false),
              (3, '', NULL, '[]', -2.5, 0, '1970-01-01 00:00:00+00', NULL),
              (4, 'héllo 🚀', '\\x5c4e', '"x"', 1e300, -1.5, NULL, true);
            INSERT INTO app.tricky SELECT g, repeat('x', g % 50), NULL, NULL, g, g, NULL, NULL FROM generate_series(5, 20000) g;
            CREATE TABLE app.flags (id int PRIMARY KEY, bits bit(8));
            INSERT INTO app.flags VALUES (1, B'10100101'), (2, NULL);
            """)
        let before = try Self.loadStatements()
        let tables = try await Self.loadApp(from: source, to: target)
        #expect(tables.map(\.state) == [.completed, .completed], "\(tables.map { $0.error ?? "" })")
        #expect(try Self.loadStatements() > before, "the rows went through LOAD DATA")
        #expect(try target.query("SELECT t, hex(b) FROM tricky WHERE id IN (1, 2, 3) ORDER BY id") == [
            ["tab\there\nnew line\r\\back \\N end", "00090A0D5CFF4E"], ["\\N", ""], ["", nil],
        ])
        #expect(try target.query("SELECT bin(bits) FROM flags ORDER BY id") == [["10100101"], [nil]])
        let results = try await validate(source, target)
        #expect(results.count == 2 && results.allSatisfy(\.matches), "\(summary(results))")
    }

    @Test("plain columns go from PostgreSQL's COPY text straight into LOAD DATA; a row MariaDB would only warn about is refused by name")
    func copyTextLoadsWithoutDecoding() async throws {
        let source = try TestDatabase.make(.postgres, label: "src"), target = try TestDatabase.make(.mysql, label: "dst")
        defer { source.drop(); target.drop() }
        try source.execute("""
            CREATE TABLE app.plain (id int PRIMARY KEY, t text, v varchar(20), c char(5), n numeric(12,3),
              ts timestamptz, tl timestamp(3), d date, tm time, ok boolean, u uuid, big bigint);
            INSERT INTO app.plain VALUES
              (1, E'tab\\there\\nline\\rcr\\\\back \\\\N \\f feed \\x0b vtab \\b bs \\x1a sub', 'héllo 🚀', 'ab', 123456789.125,
               '2026-01-02 03:04:05.123456+02', '2026-01-02 03:04:05.5', '2026-01-02', '23:59:58', true,
               'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11', 9007199254740993),
              (2, E'\\\\N', '', NULL, NULL, NULL, NULL, NULL, NULL, false, NULL, NULL),
              (3, '', NULL, 'xyz', -0.5, '1970-01-01 00:00:00+00', NULL, '1999-12-31', NULL, NULL, NULL, -1);
            INSERT INTO app.plain (id, t, n, ok) SELECT g, repeat('x', g % 50), g / 8.0, g % 2 = 0 FROM generate_series(4, 30000) g;
            CREATE TABLE app.far (id int PRIMARY KEY, at timestamp);
            INSERT INTO app.far SELECT g, '2026-01-01'::timestamp + g * interval '1 day' FROM generate_series(1, 100) g;
            INSERT INTO app.far VALUES (101, '10000-01-01 00:00:00');
            """)
        let before = try Self.loadStatements()
        let tables = try await Self.loadApp(from: source, to: target)
        let byName = Dictionary(uniqueKeysWithValues: tables.map { ($0.source.name, $0) })
        let plain = try #require(byName["plain"]), far = try #require(byName["far"])
        #expect(plain.state == .completed && plain.passthrough && plain.rowsLoaded == 30000, "\(plain)")
        #expect(try Self.loadStatements() > before, "the rows went through LOAD DATA")
        let read = try target.query("SELECT t, v, c, ts, ok FROM plain WHERE id IN (1, 2, 3) ORDER BY id")
        #expect(read == [
            ["tab\there\nline\rcr\\back \\N \u{0C} feed \u{0B} vtab \u{08} bs \u{1A} sub", "héllo 🚀", "ab", "2026-01-02 01:04:05.123456", "1"],
            ["\\N", "", nil, nil, "0"],
            ["", nil, "xyz", "1970-01-01 00:00:00.000000", nil],
        ], "\(read)")
        let results = try await validate(source, target)
        #expect(results.first { $0.source.name == "plain" }?.matches == true, "\(summary(results))")
        // MariaDB turns the year 10000 into a warning under LOAD DATA LOCAL; the chunk goes again as INSERTs,
        // whose error names the value, and the table stops as DataErrorPolicy's default says.
        #expect(far.state == .failed && far.passthrough, "\(far)")
        #expect(far.error?.contains("10000-01-01") == true, "\(far.error ?? "")")
    }
}
