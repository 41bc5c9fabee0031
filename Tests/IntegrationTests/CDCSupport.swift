import Testing
import FerryConnectors
import FerryCore
import FerryEngine

/// A replication of every table of `source`'s schema into `target`'s schema (full load and CDC, a 0.2 s
/// batch window), with `extraRules` appended to the mapping, `load` adjusting the load's options and
/// `configure` the replication's.
func cdcRunner(_ source: TestDatabase, _ target: TestDatabase, task: String, extraRules: String = "",
               _ configure: (inout ReplicationOptions) -> Void = { _ in },
               load: (inout FullLoadOptions) -> Void = { _ in }) throws -> ReplicationRunner {
    let rules = """
        {"rules":[
          {"rule-type":"selection","rule-id":"1","rule-name":"all","object-locator":{"schema-name":"\(source.schema)","table-name":"%"},"rule-action":"include"},
          {"rule-type":"transformation","rule-id":"2","rule-name":"schema","rule-target":"schema","object-locator":{"schema-name":"\(source.schema)"},"rule-action":"rename","value":"\(target.schema)"}
          \(extraRules)
        ]}
        """
    var options = ReplicationOptions(task: task, fullLoad: true)
    options.batchSeconds = 0.2
    configure(&options)
    var loadOptions = FullLoadOptions(mappings: try TableMappings(json: rules), parallelism: 2)
    load(&loadOptions)
    return ReplicationRunner(source: Connectors.source(for: source.url), target: Connectors.target(for: target.url),
                             load: loadOptions, options: options)
}

/// Runs `runner` until the target equals the source, then stops it and waits for it to end.
func runUntilConverged(_ runner: ReplicationRunner, _ source: TestDatabase, _ target: TestDatabase,
                       sourceLocation: SourceLocation = #_sourceLocation) async throws {
    let ended = StopFlag()
    let running = Task {
        defer { _ = ended.set() }
        try await runner.run()
    }
    defer { running.cancel() }
    try await converge(source, target, sourceLocation: sourceLocation)
    // A run that loads first can match the source before its load has finished (keys, indexes, progress):
    // it is stopped once it streams, or has ended by itself (then its error, if any, is the test's).
    try await waitUntil(sourceLocation: sourceLocation) { ended.isSet || runner.status.snapshot().phase == .changeCapture }
    running.cancel()
    try await running.value
}
