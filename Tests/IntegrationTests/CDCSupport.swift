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

/// Runs `write` (one large source transaction adding `rows` rows to `table`) while `runner` streams, and
/// reads the target's row count again and again until every change is applied. Returns each count read
/// while the runner had applied some of the transaction's changes but not all: the target must show
/// none of them then. Expects the table to end with all `rows`.
func countsWhileApplying(_ runner: ReplicationRunner, rows: Int, in table: String, of target: TestDatabase,
                         sourceLocation: SourceLocation = #_sourceLocation, write: () throws -> Void) async throws -> [Int] {
    let running = Task { try await runner.run() }
    defer { running.cancel() }
    try await waitUntil(sourceLocation: sourceLocation) { runner.status.snapshot().phase == .changeCapture }
    let before = runner.status.snapshot().changesApplied
    try write()
    var midway: [Int] = []
    var count = 0
    try await waitUntil(seconds: 600, sourceLocation: sourceLocation) {
        let applied = runner.status.snapshot().changesApplied - before
        count = Int(try target.query("SELECT count(*) FROM \(table)").first?[0] ?? "") ?? -1
        // The last part may commit between reading the status and counting: all the rows is not part of them.
        if applied > 0, applied < rows, count != rows { midway.append(count) }
        return count == rows
    }
    running.cancel()
    try await running.value
    return midway
}
