import FerryConnectors
import FerryCore
import FerryEngine
import Foundation
import Testing

@Suite("Validation over real servers")
struct ValidationTests {
    @Test("a faithful copy of every type validates with no difference", arguments: EnginePair.all)
    func faithfulCopy(pair: EnginePair) async throws {
        let source = try TestDatabase.make(pair.source, label: "src")
        let target = try TestDatabase.make(pair.target, label: "dst")
        defer { source.drop(); target.drop() }
        try TypeFixtures.create(in: source)
        _ = try await migrate(from: source, to: target)

        let tables = try await validate(source, target)
        #expect(tables.count == 1)
        let table = try #require(tables.first)
        #expect(table.state == .validated, "\(table.error ?? "") \(table.differences)")
        #expect(table.sourceRows == 4 && table.targetRows == 4)
        #expect(table.differences.isEmpty)
    }

    @Test("every injected difference is found, nothing else, and repair makes the table validate",
          arguments: [EnginePair(source: .postgres, target: .postgres), EnginePair(source: .postgres, target: .mysql),
                      EnginePair(source: .mysql, target: .mysql), EnginePair(source: .sqlite, target: .postgres),
                      EnginePair(source: .mysql, target: .postgres), EnginePair(source: .postgres, target: .sqlite)])
    func injectedDifferences(pair: EnginePair) async throws {
        let source = try TestDatabase.make(pair.source, label: "src")
        let target = try TestDatabase.make(pair.target, label: "dst")
        defer { source.drop(); target.drop() }
        try ValidationFixtures.create(in: source, rows: 3000)
        _ = try await migrate(from: source, to: target)
        // Small buckets and fetches make the validator refine differing ranges before fetching rows.
        var options = ValidationOptions()
        options.rowsPerBucket = 64
        options.fetchRows = 40
        let before = try await validate(source, target, options: options)
        #expect(before.allSatisfy { $0.matches }, "\(summary(before))")
        // Both engines computed identical canonical hashes, so no row had to be fetched.
        #expect(before.allSatisfy { $0.rowsFetched == 0 }, "\(before.map(\.rowsFetched))")

        let items = target.qualified("items"), tags = target.qualified("tags")
        try target.execute("""
            UPDATE \(items) SET name = 'changed' WHERE id = 17;
            UPDATE \(items) SET amount = 1.5 WHERE id = 2999;
            UPDATE \(items) SET name = NULL WHERE id = 250;
            DELETE FROM \(items) WHERE id >= 100 AND id <= 104;
            INSERT INTO \(items) (id, name, amount) VALUES (99999, 'extra', 0);
            UPDATE \(tags) SET label = 'relabelled' WHERE code = 'tag-0042';
            DELETE FROM \(tags) WHERE code = 'tag-1000';
            INSERT INTO \(tags) (code, label) VALUES ('zz-extra', 'x')
            """)
        let tables = try await validate(source, target, options: options)
        let byName = Dictionary(uniqueKeysWithValues: tables.map { ($0.source.name, $0) })
        let itemsResult = try #require(byName["items"])
        #expect(itemsResult.state == .mismatchedRecords)
        #expect(Set(itemsResult.differences.map { Found($0) }) == [
            Found(.differs, ["17"], ["name"]), Found(.differs, ["2999"], ["amount"]), Found(.differs, ["250"], ["name"]),
            Found(.missingOnTarget, ["100"], through: ["104"]), Found(.extraOnTarget, ["99999"]),
        ])
        #expect(itemsResult.differenceCount == 9)
        #expect(itemsResult.differenceCounts == [.differs: 3, .missingOnTarget: 5, .extraOnTarget: 1])
        let tagsResult = try #require(byName["tags"])
        #expect(Set(tagsResult.differences.map { Found($0) }) == [
            Found(.differs, ["tag-0042"], ["label"]), Found(.missingOnTarget, ["tag-1000"]), Found(.extraOnTarget, ["zz-extra"]),
        ])
        let changed = try #require(itemsResult.differences.first { $0.key == ["17"] })
        #expect(changed.targetValues == ["changed"])
        #expect(byName["unkeyed"]?.state == .noPrimaryKey && byName["unkeyed"]?.matches == true)

        let repaired = try await validate(source, target, options: options, repair: true)
        #expect(repaired.allSatisfy { $0.matches }, "\(summary(repaired))")
        #expect(repaired.first { $0.source.name == "items" }?.repairedRows == 8)
        let after = try await validate(source, target)
        #expect(after.allSatisfy { $0.matches })
    }

    @Test("during CDC a row that keeps changing on the source is suspended, one that stays different is a mismatch")
    func suspendedRecords() async throws {
        let source = try TestDatabase.make(.postgres, label: "src"), target = try TestDatabase.make(.postgres, label: "dst")
        defer { source.drop(); target.drop() }
        try source.execute("CREATE TABLE app.items (id int PRIMARY KEY, name text); INSERT INTO app.items SELECT g, 'item ' || g FROM generate_series(1, 100) g")
        _ = try await migrate(from: source, to: target)
        try target.execute("UPDATE app.items SET name = 'stale' WHERE id IN (5, 7)")
        var options = ValidationOptions()
        let ticks = ManagedCounter()
        // Each settle stands for the apply catching up; meanwhile the application keeps rewriting row 7.
        options.settle = { _ in try source.execute("UPDATE app.items SET name = 'tick \(ticks.next())' WHERE id = 7") }
        let both = try #require(try await validate(source, target, options: options).first)
        #expect(both.state == .mismatchedRecords && both.differenceCount == 1 && both.suspendedCount == 1, "\(both.state) \(both.differenceCount) \(both.suspendedCount)")
        #expect(both.differences.map(\.key) == [["5"]])

        try target.execute("UPDATE app.items SET name = 'item 5' WHERE id = 5")
        let onlyChanging = try #require(try await validate(source, target, options: options).first)
        #expect(onlyChanging.state == .suspendedRecords && onlyChanging.differenceCount == 0 && onlyChanging.suspendedCount == 1)
    }

    @Test("during CDC a gap longer than one fetch stays one run through the rechecks; a short one the apply fills is no difference")
    func longGapDuringRecheck() async throws {
        let source = try TestDatabase.make(.postgres, label: "src"), target = try TestDatabase.make(.postgres, label: "dst")
        defer { source.drop(); target.drop() }
        try source.execute("CREATE TABLE app.items (id int PRIMARY KEY, name text); INSERT INTO app.items SELECT g, 'item ' || g FROM generate_series(1, 5000) g")
        _ = try await migrate(from: source, to: target)
        try target.execute("DELETE FROM app.items WHERE id BETWEEN 1001 AND 3000 OR id BETWEEN 4001 AND 4010")
        var options = ValidationOptions()
        options.fetchRows = 500
        // The apply catches up with the short gap only.
        options.settle = { _ in try target.execute("INSERT INTO app.items SELECT g, 'item ' || g FROM generate_series(4001, 4010) g ON CONFLICT DO NOTHING") }
        let result = try #require(try await validate(source, target, options: options).first)
        #expect(result.differenceCounts == [.missingOnTarget: 2000], "\(result.differenceCounts)")
        #expect(result.differences.map { [$0.key, $0.lastKey ?? []] } == [[["1001"], ["3000"]]])
    }

    @Test("a table without a primary key is compared by whole-table count and hash")
    func unkeyedTable() async throws {
        let source = try TestDatabase.make(.postgres, label: "src")
        let target = try TestDatabase.make(.mysql, label: "dst")
        defer { source.drop(); target.drop() }
        try ValidationFixtures.create(in: source, rows: 100)
        _ = try await migrate(from: source, to: target)
        try target.execute("UPDATE \(target.qualified("unkeyed")) SET note = 'changed' WHERE n = 7")
        let result = try #require(try await validate(source, target).first { $0.source.name == "unkeyed" })
        #expect(result.state == .noPrimaryKey)
        #expect(!result.matches)
    }

    @Test("selection filters limit the comparison to the rows the migration copied")
    func filteredValidation() async throws {
        let source = try TestDatabase.make(.mysql, label: "src")
        let target = try TestDatabase.make(.postgres, label: "dst")
        defer { source.drop(); target.drop() }
        try ValidationFixtures.create(in: source, rows: 500)
        let filter = """
            ,{"rule-type":"selection","rule-id":"3","rule-name":"some","object-locator":{"schema-name":"\(source.schema)","table-name":"items"},
              "rule-action":"include","filters":[{"filter-type":"source","column-name":"id","filter-conditions":[{"filter-operator":"lte","value":"200"}]}]}
            """
        _ = try await migrate(from: source, to: target, extraRules: filter)
        let tables = try await validate(source, target, extraRules: filter)
        let items = try #require(tables.first { $0.source.name == "items" })
        #expect(items.state == .validated && items.sourceRows == 200 && items.targetRows == 200)
    }

    /// A difference reduced to what the assertions compare.
    struct Found: Hashable, CustomStringConvertible {
        var kind: DifferenceKind
        var key: [String?]
        var columns: [String] = []
        var lastKey: [String?]?

        init(_ kind: DifferenceKind, _ key: [String?], _ columns: [String] = [], through lastKey: [String?]? = nil) {
            self.kind = kind
            self.key = key
            self.columns = columns
            self.lastKey = lastKey
        }

        init(_ difference: RowDifference) {
            self.init(difference.kind, difference.key, difference.columns, through: difference.lastKey)
        }

        var description: String { "\(kind.rawValue) \(key)\(lastKey.map { "…\($0)" } ?? "") \(columns)" }
    }
}

/// Validates one test database against another, with the schema rename `migrate` uses.
func validate(_ source: TestDatabase, _ target: TestDatabase, options: ValidationOptions = ValidationOptions(),
              repair: Bool = false, extraRules: String = "") async throws -> [TableValidation] {
    let rules = """
        {"rules":[
          {"rule-type":"selection","rule-id":"1","rule-name":"all","object-locator":{"schema-name":"\(source.schema)","table-name":"%"},"rule-action":"include"},
          {"rule-type":"transformation","rule-id":"2","rule-name":"schema","rule-target":"schema","object-locator":{"schema-name":"\(source.schema)"},"rule-action":"rename","value":"\(target.schema)"}
          \(extraRules)
        ]}
        """
    let runner = ValidationRunner(source: Connectors.source(for: source.url), target: Connectors.source(for: target.url),
                                  writer: Connectors.target(for: target.url), mappings: try TableMappings(json: rules),
                                  options: options, logger: .init(label: "test"))
    return try await runner.run(repair: repair)
}

/// Waits until validation finds the target equal to the source (replication catches up within seconds;
/// the limit leaves room for a busy CI machine).
func converge(_ source: TestDatabase, _ target: TestDatabase, sourceLocation: SourceLocation = #_sourceLocation) async throws {
    var last: [TableValidation] = []
    for _ in 0..<240 {
        last = try await validate(source, target)
        if !last.isEmpty, last.allSatisfy({ $0.matches }) { return }
        try await Task.sleep(for: .milliseconds(500))
    }
    Issue.record("the target never matched the source: \(summary(last))", sourceLocation: sourceLocation)
}

/// The results in one line per table, for failure messages.
func summary(_ tables: [TableValidation]) -> String {
    tables.map { "\($0.source) \($0.state.rawValue) \($0.error ?? "") \($0.differences)" }.joined(separator: "\n")
}

/// Tables for validation tests: integer keys, text keys, and no key.
enum ValidationFixtures {
    static func create(in db: TestDatabase, rows: Int) throws {
        let items = db.qualified("items"), tags = db.qualified("tags"), unkeyed = db.qualified("unkeyed")
        switch db.engine {
        case .postgres:
            try db.execute("""
                CREATE TABLE \(items) (id int PRIMARY KEY, name varchar(50), amount numeric(12,2), seen timestamptz(3), note text, code char(8));
                INSERT INTO \(items) SELECT g, 'item ' || g, g * 1.25, '2024-01-01 00:00:00+00'::timestamptz + g * interval '1 minute 0.125 second',
                  CASE WHEN g % 7 = 0 THEN NULL WHEN g % 100 = 1 THEN repeat('long ', 300) || g ELSE 'note ' || g END,
                  CASE WHEN g % 11 = 0 THEN NULL ELSE 'c' || g % 1000 END
                  FROM generate_series(1, \(rows)) g;
                UPDATE \(items) SET amount = amount WHERE id % 3 = 0;
                CREATE TABLE \(tags) (code varchar(20) PRIMARY KEY, label text);
                INSERT INTO \(tags) SELECT 'tag-' || lpad(g::text, 4, '0'), 'label ' || g FROM generate_series(1, \(rows)) g;
                CREATE TABLE \(unkeyed) (n int, note text);
                INSERT INTO \(unkeyed) SELECT g % 50, 'note ' || g FROM generate_series(1, \(rows)) g
                """)
        case .mysql:
            try db.execute("""
                CREATE TABLE \(items) (id int PRIMARY KEY, name varchar(50), amount decimal(12,2), seen datetime(3), note text, code char(8));
                INSERT INTO \(items) SELECT seq, concat('item ', seq), seq * 1.25, DATE_ADD('2024-01-01 00:00:00', INTERVAL seq * 60125000 MICROSECOND),
                  CASE WHEN seq % 7 = 0 THEN NULL WHEN seq % 100 = 1 THEN concat(repeat('long ', 300), seq) ELSE concat('note ', seq) END,
                  CASE WHEN seq % 11 = 0 THEN NULL ELSE concat('c', seq % 1000) END
                  FROM seq_1_to_\(rows);
                CREATE TABLE \(tags) (code varchar(20) PRIMARY KEY, label text);
                INSERT INTO \(tags) SELECT concat('tag-', lpad(seq, 4, '0')), concat('label ', seq) FROM seq_1_to_\(rows);
                CREATE TABLE \(unkeyed) (n int, note text);
                INSERT INTO \(unkeyed) SELECT seq % 50, concat('note ', seq) FROM seq_1_to_\(rows)
                """)
        case .sqlite:
            try db.execute("""
                CREATE TABLE items (id INTEGER PRIMARY KEY, name VARCHAR(50), amount DECIMAL_TEXT(12,2), seen DATETIME, note TEXT, code CHAR(8));
                WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < \(rows))
                INSERT INTO items SELECT n, 'item ' || n, printf('%.2f', n * 1.25), strftime('%Y-%m-%d %H:%M:%f', '2024-01-01', '+' || n || ' minutes'),
                  CASE WHEN n % 7 = 0 THEN NULL WHEN n % 100 = 1 THEN replace(printf('%.300c', 'x'), 'x', 'long ') || n ELSE 'note ' || n END,
                  CASE WHEN n % 11 = 0 THEN NULL ELSE 'c' || n % 1000 END FROM g;
                CREATE TABLE tags (code VARCHAR(20) PRIMARY KEY, label TEXT);
                WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < \(rows))
                INSERT INTO tags SELECT 'tag-' || printf('%04d', n), 'label ' || n FROM g;
                CREATE TABLE unkeyed (n INTEGER, note TEXT);
                WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < \(rows))
                INSERT INTO unkeyed SELECT n % 50, 'note ' || n FROM g;
                """)
        }
    }
}

extension TestDatabase {
    /// The table's name as SQL on this database (schema-qualified on PostgreSQL).
    func qualified(_ table: String) -> String {
        engine == .postgres ? "\(schema).\(table)" : table
    }
}

/// A thread-safe counter for test closures.
final class ManagedCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var value = 0

    func next() -> Int {
        lock.withLock {
            value += 1
            return value
        }
    }
}
