import FerryCore
import Foundation
import GRDB
import PropertyBased
import Testing

/// Property-based tests of the mapping language: wildcards against a regular-expression reference, filters
/// evaluated in memory (CDC) against the same filters run as SQL by SQLite (full load), and random or
/// mutated documents against the parser.
@Suite struct MappingPropertyTests {
    static let patternPieces = ["a", "b", "%", "_", "[%]", "[_]"]
    static let nameCharacters: [Character] = ["a", "b", "%", "_"]

    /// The reference: the pattern as an anchored regular expression.
    static func referenceMatch(_ pieces: [String], _ name: String) -> Bool {
        let regex = pieces.map { piece -> String in
            switch piece {
            case "%": return ".*"
            case "_": return "."
            case "[%]": return "%"
            case "[_]": return "_"
            default: return NSRegularExpression.escapedPattern(for: piece)
            }
        }.joined()
        return name.range(of: "^" + regex + "$", options: .regularExpression) != nil
    }

    @Test func wildcardsMatchLikeTheirRegularExpression() async {
        let patterns = Gen.element(of: Self.patternPieces).compactMap { $0 }.array(of: 0...6)
        let names = Gen.element(of: Self.nameCharacters).compactMap { $0 }.array(of: 0...6).map { String($0) }
        await propertyCheck(count: 2000, input: patterns, names) { pieces, name in
            let pattern = pieces.joined()
            let wildcard = try Wildcard(pattern)
            #expect(wildcard.matches(name) == Self.referenceMatch(pieces, name), "pattern \(pattern) name \(name)")
            #expect(wildcard.description == pattern)
        }
    }

    /// Filter conditions over small integers, so that bounds and equality are hit often.
    static let integerCondition = Gen.int(in: 0...7).map { kind -> (Int) -> RowFilter.Condition in
        { v in
            switch kind {
            case 0: return .lessOrEqual(String(v))
            case 1: return .greaterOrEqual(String(v))
            case 2: return .equal(String(v))
            case 3: return .notEqual(String(v))
            case 4: return .between(String(v), String(v + 2))
            case 5: return .notBetween(String(v), String(v + 2))
            case 6: return .isNull
            default: return .isNotNull
            }
        }
    }

    @Test func filtersAdmitInMemoryWhatTheirSQLSelects() async throws {
        let db = try DatabaseQueue()
        try await db.write { try $0.execute(sql: "CREATE TABLE t (n INTEGER, s TEXT)") }
        let conditions = PropertyBased.zip(Self.integerCondition, Gen.int(in: -4...4)).map { make, v in make(v) }.array(of: 1...3)
        let values = Gen.int(in: -6...6).optional(valueRate: 0.85)
        await propertyCheck(count: 1000, input: conditions, values) { conditions, value in
            let filter = RowFilter(column: "n", conditions: conditions)
            let sql = filter.sql(quote: { "\"\($0)\"" }, literal: { "'\($0)'" })
            let selected = try await db.write { db -> Bool in
                try db.execute(sql: "DELETE FROM t")
                try db.execute(sql: "INSERT INTO t (n) VALUES (?)", arguments: [value])
                return try Int.fetchOne(db, sql: "SELECT count(*) FROM t WHERE \(sql)") == 1
            }
            let admitted = filter.admits(value.map { Value.int(Int64($0)) } ?? .null)
            #expect(admitted == selected, "\(sql) with n = \(value.map(String.init) ?? "NULL")")
        }
    }

    @Test func textFiltersCompareLikeTheDatabase() async throws {
        let db = try DatabaseQueue()
        try await db.write { try $0.execute(sql: "CREATE TABLE t (s TEXT)") }
        let words = Gen.element(of: ["a", "ab", "b", "ba", "B", "", "a b", "z"]).compactMap { $0 }
        let conditions = PropertyBased.zip(Gen.int(in: 0...5), words, words).map { kind, a, b -> RowFilter.Condition in
            switch kind {
            case 0: return .lessOrEqual(a)
            case 1: return .greaterOrEqual(a)
            case 2: return .equal(a)
            case 3: return .notEqual(a)
            case 4: return .between(min(a, b), max(a, b))
            default: return .notBetween(min(a, b), max(a, b))
            }
        }.array(of: 1...3)
        await propertyCheck(count: 1000, input: conditions, words) { conditions, value in
            let filter = RowFilter(column: "s", conditions: conditions)
            let sql = filter.sql(quote: { "\"\($0)\"" }, literal: { "'\($0)'" })
            let selected = try await db.write { db -> Bool in
                try db.execute(sql: "DELETE FROM t")
                try db.execute(sql: "INSERT INTO t VALUES (?)", arguments: [value])
                return try Int.fetchOne(db, sql: "SELECT count(*) FROM t WHERE \(sql)") == 1
            }
            #expect(filter.admits(.text(value)) == selected, "\(sql) with s = '\(value)'")
        }
    }

    /// Valid documents to mutate: every rule type and the keys that carry meaning.
    static let seeds = [
        #"{"rules":[{"rule-type":"selection","rule-id":"1","rule-name":"1","object-locator":{"schema-name":"hr","table-name":"%"},"rule-action":"include","filters":[{"filter-type":"source","column-name":"id","filter-conditions":[{"filter-operator":"between","start-value":"1","end-value":"9"}]}]}]}"#,
        #"{"rules":[{"rule-type":"selection","rule-id":"1","rule-name":"1","object-locator":{"schema-name":"hr","table-name":"people"},"rule-action":"explicit","load-order":2},{"rule-type":"transformation","rule-id":"2","rule-name":"2","rule-target":"column","object-locator":{"schema-name":"hr","table-name":"people","column-name":"name"},"rule-action":"rename","value":"full"}]}"#,
        #"{"rules":[{"rule-type":"selection","rule-id":"1","rule-name":"1","object-locator":{"schema-name":"%","table-name":"%"},"rule-action":"include"},{"rule-type":"transformation","rule-id":"3","rule-name":"3","rule-target":"column","object-locator":{"schema-name":"hr","table-name":"people"},"rule-action":"add-column","value":"x","expression":"$name||'!'","data-type":{"type":"string","length":20}},{"rule-type":"table-settings","rule-id":"4","rule-name":"4","object-locator":{"schema-name":"hr","table-name":"people"},"parallel-load":{"type":"none"}}]}"#,
        ##"{"rules":[{"rule-type":"selection","rule-id":"1","rule-name":"1","object-locator":{"schema-name":"hr","table-name":"%"},"rule-action":"include"},{"rule-type":"transformation","rule-id":"5","rule-name":"5","rule-target":"table","object-locator":{"schema-name":"hr","table-name":"people"},"rule-action":"define-primary-key","primary-key-def":{"name":"pk","origin":"unique-index","columns":["id"]}},{"rule-type":"transformation","rule-id":"6","rule-name":"6","rule-target":"column","object-locator":{"schema-name":"hr","table-name":"people","column-name":"name"},"rule-action":"data-masking-digits-mask","value":"#"}]}"##,
    ]

    static let people = TableSchema(
        id: TableID(schema: "hr", name: "people"), engine: .postgres,
        columns: [Column(name: "id", type: .integer(bytes: 4, unsigned: false), nativeType: "integer", nullable: false),
                  Column(name: "name", type: .text, nativeType: "text", nullable: true)],
        primaryKey: ["id"])

    @Test func seedsAreValid() throws {
        for seed in Self.seeds { _ = try TableMappings(json: seed).plan(for: Self.people) }
    }

    @Test func mutatedDocumentsGetATypedErrorOrAPlanNeverACrash() async throws {
        let roots = try Self.seeds.map { try JSONSerialization.jsonObject(with: Data($0.utf8)) }
        let mutations = Gen.int(in: 0...Int(Int32.max)).array(of: 1...4)
        await propertyCheck(count: 1500, input: Gen.int(in: 0...(Self.seeds.count - 1)), mutations) { seed, steps in
            var document = roots[seed]
            for step in steps { document = JSONMutation.mutate(document, seed: step) }
            guard let data = try? JSONSerialization.data(withJSONObject: document, options: [.fragmentsAllowed]) else { return }
            let text = String(decoding: data, as: UTF8.self)
            do {
                let mappings = try TableMappings(json: text)
                _ = try? mappings.plan(for: Self.people)
            } catch let error as FerryError {
                #expect(error.kind == .invalidParameter && !error.message.isEmpty, "\(text): \(error)")
            } catch {
                Issue.record("\(text) gave an untyped error: \(error)")
            }
        }
    }

    @Test func randomTextIsRefusedWithATypedError() async {
        let texts = Gen.element(of: Array(#"{}[]":,0123456789abcdefrule-typeselction%_\ ntl"#)).compactMap { $0 }.array(of: 0...60).map { String($0) }
        await propertyCheck(count: 1500, input: texts) { text in
            do {
                _ = try TableMappings(json: text)
            } catch let error as FerryError {
                #expect(error.kind == .invalidParameter)
            } catch {
                Issue.record("\(text) gave an untyped error: \(error)")
            }
        }
    }
}

/// Deterministic random edits of a JSON value: drop, rename or retype a key, or replace a value.
enum JSONMutation {
    static let keys = ["rule-type", "rule-id", "rule-name", "rule-action", "rule-target", "object-locator", "schema-name",
                       "table-name", "column-name", "value", "old-value", "filters", "filter-conditions", "filter-operator",
                       "expression", "data-type", "type", "length", "primary-key-def", "columns", "parallel-load", "x"]

    static func mutate(_ value: Any, seed: Int) -> Any {
        var rng = Seeded(state: UInt64(seed) &* 0x9E37_79B9_7F4A_7C15 | 1)
        return mutate(value, &rng, depth: 0)
    }

    private static func mutate(_ value: Any, _ rng: inout Seeded, depth: Int) -> Any {
        let choice = rng.next() % 10
        if depth > 0, choice == 0 { return randomValue(&rng) }
        switch value {
        case var object as [String: Any]:
            let names = object.keys.sorted()
            guard !names.isEmpty else { object[keys[Int(rng.next() % UInt64(keys.count))]] = randomValue(&rng); return object }
            let name = names[Int(rng.next() % UInt64(names.count))]
            switch choice {
            case 1: object[name] = nil
            case 2: object[keys[Int(rng.next() % UInt64(keys.count))]] = object.removeValue(forKey: name)
            case 3: object[name] = randomValue(&rng)
            default: object[name] = mutate(object[name] as Any, &rng, depth: depth + 1)
            }
            return object
        case var array as [Any]:
            guard !array.isEmpty else { return [randomValue(&rng)] }
            let index = Int(rng.next() % UInt64(array.count))
            switch choice {
            case 1: array.remove(at: index)
            case 2: array.append(array[index])
            default: array[index] = mutate(array[index], &rng, depth: depth + 1)
            }
            return array
        default:
            return randomValue(&rng)
        }
    }

    private static func randomValue(_ rng: inout Seeded) -> Any {
        switch rng.next() % 9 {
        case 0: return NSNull()
        case 1: return true
        case 2: return Int(rng.next() % 2000) - 1000
        case 3: return 3.5
        case 4: return ""
        case 5: return "%"
        case 6: return ["a", 1] as [Any]
        case 7: return ["type": "string"] as [String: Any]
        default: return keys[Int(rng.next() % UInt64(keys.count))]
        }
    }

    /// SplitMix64, so that a failing case replays from its seed.
    struct Seeded {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }
}
