import FerryCore
import FerryEngine
import Foundation
import Testing

@Suite("Full-load conformance over every engine pair")
struct ConformanceTests {
    @Test("every supported type, edge values and NULLs copy exactly", arguments: EnginePair.all)
    func typeRoundTrip(pair: EnginePair) async throws {
        let source = try TestDatabase.make(pair.source, label: "src")
        let target = try TestDatabase.make(pair.target, label: "dst")
        defer { source.drop(); target.drop() }
        try TypeFixtures.create(in: source)

        let tables = try await migrate(from: source, to: target)
        #expect(tables.count == 1)
        #expect(tables.allSatisfy { $0.state == .completed }, "\(tables.map { "\($0.source): \($0.error ?? "")" })")

        let (sourceTable, sourceRows) = try source.readTable("all_types")
        let (_, targetRows) = try target.readTable("all_types")
        #expect(targetRows.count == sourceRows.count)
        for (s, t) in zip(sourceRows, targetRows) {
            for (i, column) in sourceTable.columns.enumerated() {
                let expected = Canonical.form(s[i], as: column.type)
                let actual = Canonical.form(t[i], as: column.type)
                #expect(expected == actual, "row \(s[0]) column \(column.name) (\(column.type))")
            }
        }
    }

    @Test("tricky text keeps its exact bytes, emoji included", arguments: EnginePair.all)
    func exactText(pair: EnginePair) async throws {
        let source = try TestDatabase.make(pair.source, label: "src")
        let target = try TestDatabase.make(pair.target, label: "dst")
        defer { source.drop(); target.drop() }
        try TypeFixtures.create(in: source)
        _ = try await migrate(from: source, to: target)
        let column = pair.source == .postgres ? "c_text" : (pair.source == .mysql ? "c_text" : "c_varchar")
        let table = target.engine == .postgres ? "\(target.schema).all_types" : "all_types"
        let length = target.engine == .mysql ? "octet_length" : (target.engine == .postgres ? "octet_length" : "length")
        let rows = try target.query("SELECT \(column), \(length)(\(column)) FROM \(table) WHERE id = 4")
        #expect(rows.first?[0] == TypeFixtures.trickyText)
        if target.engine != .sqlite {
            #expect(rows.first?[1] == String(TypeFixtures.trickyText.utf8.count))
        }
    }

    @Test("10 MB text and 10 MB binary values arrive whole", arguments: EnginePair.all)
    func largeValues(pair: EnginePair) async throws {
        let source = try TestDatabase.make(pair.source, label: "src")
        let target = try TestDatabase.make(pair.target, label: "dst")
        defer { source.drop(); target.drop() }
        let size = 10 * 1024 * 1024
        switch pair.source {
        case .postgres:
            try source.execute("""
                CREATE TABLE app.big (id int PRIMARY KEY, t text, b bytea);
                INSERT INTO app.big SELECT 1, repeat('ab🦤', \(size / 6)), convert_to(repeat('x', \(size)), 'UTF8') || '\\x00ff'::bytea
                """)
        case .mysql:
            try source.execute("""
                CREATE TABLE big (id int PRIMARY KEY, t longtext, b longblob);
                INSERT INTO big VALUES (1, repeat('ab🦤', \(size / 6)), concat(repeat('x', \(size)), X'00ff'))
                """)
        case .sqlite:
            try source.execute("""
                CREATE TABLE big (id INTEGER PRIMARY KEY, t TEXT, b BLOB);
                INSERT INTO big VALUES (1, replace(hex(zeroblob(\(size / 6))), '00', 'ab🦤'), zeroblob(\(size + 2)));
                """)
        }
        let tables = try await migrate(from: source, to: target)
        #expect(tables.first?.state == .completed, "\(tables.first?.error ?? "")")
        let (_, sourceRows) = try source.readTable("big")
        let (_, targetRows) = try target.readTable("big")
        #expect(sourceRows == targetRows)
        if case let .text(t)? = targetRows.first?[1] { #expect(t.utf8.count >= size / 6 * 6) } else { Issue.record("no text value") }
        if case let .bytes(b)? = targetRows.first?[2] { #expect(b.count == size + 2) } else { Issue.record("no binary value") }
    }
}

@Suite("PostgreSQL passthrough")
struct PassthroughTests {
    @Test("built-in types pass through COPY binary (and COPY text into an existing table) exactly")
    func binaryAndTextPassthrough() async throws {
        let source = try TestDatabase.make(.postgres, label: "src")
        let target = try TestDatabase.make(.postgres, label: "dst")
        defer { source.drop(); target.drop() }
        try source.execute("""
            CREATE TABLE app.builtin (
              id bigint PRIMARY KEY, n numeric(40,10), f double precision, r real, b boolean, t text, v varchar(10),
              by bytea, d date, ts timestamp(6), tz timestamptz, j jsonb, u uuid, i interval, bits bit(4), a int[], ta text[]);
            INSERT INTO app.builtin VALUES
              (1, -\(TypeFixtures.bigNumeric), 'NaN', '-Infinity', true, E'tab\\there \\\\ 🦤', '', '\\x00ff',
               '2024-02-29', '2000-01-01 00:00:00.000001', '1970-01-01 00:00:00+02', '{"k": [1, null]}',
               'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '1 mon -2 days 03:00', B'1010', '{1,NULL,3}', '{"a b",""}'),
              (2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
            INSERT INTO app.builtin (id, n, t) SELECT g, g / 7.0, md5(g::text) FROM generate_series(3, 5000) g
            """)
        let tables = try await migrate(from: source, to: target)
        #expect(tables.first?.state == .completed, "\(tables.first?.error ?? "")")
        #expect(tables.first?.passthrough == true)
        #expect(tables.first?.rowsLoaded == 5000)
        let (schema, sourceRows) = try source.readTable("builtin")
        // Compared through their canonical forms: NaN never equals itself as a Double.
        func canonical(_ rows: [[Value]]) -> [[String?]] {
            rows.map { row in zip(row, schema.columns).map { Canonical.form($0, as: $1.type) } }
        }
        #expect(canonical(try target.readTable("builtin").1) == canonical(sourceRows))

        try target.execute("TRUNCATE app.builtin")
        let again = try await migrate(from: source, to: target, prepMode: .doNothing)
        #expect(again.first?.state == .completed, "\(again.first?.error ?? "")")
        #expect(again.first?.rowsLoaded == 5000)
        #expect(canonical(try target.readTable("builtin").1) == canonical(sourceRows))
    }
}
