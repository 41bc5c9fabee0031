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
