import FerryConnectors
import FerryCore
import FerryEngine
import FerryPostgres
import Foundation
import Testing

/// Mapping documents in the shapes of the AWS DMS user guide's examples (Tests/IntegrationTests/Corpus),
/// each applied by a full load from one PostgreSQL database to another, with the target tables' columns,
/// rows, types, keys and chunks asserted, and the tables the rules leave out checked absent.
@Suite("Table-mapping corpus over real servers")
struct MappingCorpusTests {
    struct Case: Decodable, CustomStringConvertible {
        struct Table: Decodable {
            var columns: [String]
            var rows: [[String?]]?
            var count: Int?
            var chunks: Int?
            var types: [String: String]?
            var primaryKey: [String]?
        }

        var file: String = ""
        var source: String
        var expect: [String: Table]
        var absent: [String]?
        var description: String { file }

        enum CodingKeys: String, CodingKey { case source, expect, absent }
    }

    static func cases() throws -> [Case] {
        let directory = try #require(Bundle.module.url(forResource: "Corpus", withExtension: nil))
        return try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(".json") }.sorted().map { name in
            var item = try JSONDecoder().decode(Case.self, from: Data(contentsOf: directory.appendingPathComponent(name)))
            item.file = name
            return item
        }
    }

    static func mappings(_ file: String) throws -> String {
        let directory = try #require(Bundle.module.url(forResource: "Corpus", withExtension: nil))
        let root = try JSONSerialization.jsonObject(with: Data(contentsOf: directory.appendingPathComponent(file))) as? [String: Any]
        return String(decoding: try JSONSerialization.data(withJSONObject: root?["mappings"] ?? [:]), as: UTF8.self)
    }

    @Test("each document loads exactly the tables, columns and rows it describes", arguments: try cases())
    func document(_ item: Case) async throws {
        let source = try TestDatabase.make(.postgres, label: "src"), target = try TestDatabase.make(.postgres, label: "dst")
        defer { source.drop(); target.drop() }
        try source.execute(item.source)
        let options = FullLoadOptions(mappings: try TableMappings(json: Self.mappings(item.file)), parallelism: 4)
        let progress = try await FullLoadRunner(source: Connectors.source(for: source.url), target: Connectors.target(for: target.url),
                                                options: options).run()
        #expect(progress.allSatisfy { $0.state == .completed }, "\(progress.map { "\($0.target) \($0.state) \($0.error ?? "")" })")
        #expect(Set(progress.map { "\($0.target)" }) == Set(item.expect.keys))
        for (name, expected) in item.expect.sorted(by: { $0.key < $1.key }) {
            let parts = name.split(separator: ".", maxSplits: 1).map(String.init)
            let columns = try target.query("SELECT column_name FROM information_schema.columns WHERE table_schema = '\(parts[0])' AND table_name = '\(parts[1])'")
                .map { $0[0] ?? "" }
            #expect(Set(columns) == Set(expected.columns), "\(name) columns")
            let quoted = "\(PGConnection.quote(parts[0])).\(PGConnection.quote(parts[1]))"
            if let rows = expected.rows {
                let list = expected.columns.map(PGConnection.quote).joined(separator: ", ")
                #expect(try target.query("SELECT \(list) FROM \(quoted) ORDER BY 1") == rows, "\(name) rows")
            }
            if let count = expected.count {
                #expect(try target.query("SELECT count(*), count(DISTINCT id) FROM \(quoted)") == [[String(count), String(count)]], "\(name) count")
            }
            if let chunks = expected.chunks {
                #expect(progress.first { "\($0.target)" == name }?.chunks == chunks, "\(name) chunks")
            }
            for (column, type) in expected.types ?? [:] {
                #expect(try target.query("SELECT data_type FROM information_schema.columns WHERE table_schema = '\(parts[0])' AND table_name = '\(parts[1])' AND column_name = '\(column)'") == [[type]])
            }
            if let key = expected.primaryKey {
                #expect(try target.query("""
                    SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
                    WHERE i.indrelid = '\(quoted)'::regclass AND i.indisprimary ORDER BY array_position(i.indkey, a.attnum)
                    """).map { $0[0] ?? "" } == key)
            }
        }
        for name in item.absent ?? [] {
            let parts = name.split(separator: ".", maxSplits: 1).map(String.init)
            #expect(try target.query("SELECT count(*) FROM information_schema.tables WHERE table_schema = '\(parts[0])' AND table_name = '\(parts[1])'") == [["0"]], "\(name) must not exist")
        }
    }
}
