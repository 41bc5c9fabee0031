import FerryConnectors
import FerryCore
import FerryEngine
import Foundation
import Testing

@Suite("A full load taken over by a later run")
struct LoadFenceTests {
    @Test("once a later run claims the task, the load commits no more rows and stops fenced", arguments: [EngineKind.postgres, .mysql, .sqlite])
    func laterClaimStopsTheLoad(target engine: EngineKind) async throws {
        let source = try TestDatabase.make(.postgres, label: "src"), target = try TestDatabase.make(engine, label: "dst")
        defer { source.drop(); target.drop() }
        try source.execute("CREATE TABLE app.items (id int PRIMARY KEY, note text); INSERT INTO app.items SELECT g, md5(g::text) FROM generate_series(1, 1000000) g")
        let mappings = try TableMappings(json: """
            {"rules":[{"rule-type":"selection","rule-id":"1","rule-name":"all","object-locator":{"schema-name":"app","table-name":"items"},"rule-action":"include"},
            {"rule-type":"transformation","rule-id":"2","rule-name":"s","rule-target":"schema","object-locator":{"schema-name":"app"},"rule-action":"rename","value":"\(target.schema)"}]}
            """)
        let task = "load-fence-\(UUID().uuidString.prefix(8).lowercased())"
        let writer = Connectors.target(for: target.url)
        var options = FullLoadOptions(mappings: mappings, parallelism: 2)
        options.commitRows = 1000
        options.fence = try FullLoadRunner.claim(task: task, on: writer, controlSchema: "")
        let runner = FullLoadRunner(source: Connectors.source(for: source.url), target: writer, options: options)
        let loading = Task { try await runner.run() }
        try await waitUntil(seconds: 60) { (runner.status.snapshot().first?.rowsLoaded ?? 0) > 20_000 }

        // A later run's claim waits for the load's open transactions, then refuses the rest.
        let later = try FullLoadRunner.claim(task: task, on: writer, controlSchema: "")
        #expect(later.epoch == options.fence!.epoch + 1)
        let count = { try target.query("SELECT count(*) FROM \(target.qualified("items"))").first?[0].flatMap { Int($0) } ?? -1 }
        let atClaim = try count()
        let refused = await #expect(throws: FerryError.self) { try await loading.value }
        #expect(refused?.kind == .fenced, "\(String(describing: refused))")
        #expect(try count() == atClaim, "no row commits after the later claim")
        #expect(atClaim < 1_000_000, "the claim came while the load ran")
    }
}
