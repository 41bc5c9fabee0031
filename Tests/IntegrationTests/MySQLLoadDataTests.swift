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
        let rules = """
            {"rules":[
              {"rule-type":"selection","rule-id":"1","rule-name":"all","object-locator":{"schema-name":"app","table-name":"%"},"rule-action":"include"},
              {"rule-type":"transformation","rule-id":"2","rule-name":"schema","rule-target":"schema","object-locator":{"schema-name":"app"},"rule-action":"rename","value":"\(target.schema)"}
            ]}
            """
        let tables = try await FullLoadRunner(source: Connectors.source(for: source.url), target: Connectors.target(for: target.url),
                                              options: FullLoadOptions(mappings: try TableMappings(json: rules))).run()
        #expect(tables.map(\.state) == [.completed, .completed], "\(tables.map { $0.error ?? "" })")
        #expect(try Self.loadStatements() > before, "the rows went through LOAD DATA")
        #expect(try target.query("SELECT t, hex(b) FROM tricky WHERE id IN (1, 2, 3) ORDER BY id") == [
            ["tab\there\nnew line\r\\back \\N end", "00090A0D5CFF4E"], ["\\N", ""], ["", nil],
        ])
        #expect(try target.query("SELECT bin(bits) FROM flags ORDER BY id") == [["10100101"], [nil]])
        let results = try await validate(source, target)
        #expect(results.count == 2 && results.allSatisfy(\.matches), "\(summary(results))")
    }
}
