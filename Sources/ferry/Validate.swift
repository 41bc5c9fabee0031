import ArgumentParser
import FerryConnectors
import FerryCore
import FerryEngine
import Foundation

struct Validate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Prove that the target holds the same rows as the source, and name every row that differs.",
        discussion: """
        Both databases compute per-range row counts and hashes themselves; only the ranges that differ are
        fetched and compared value by value. Exit code 0 means every table matches, 1 that something differs
        or could not be compared, 2 bad input.
        """
    )

    @Option(help: "Source database URL.")
    var source: String

    @Option(help: "Target database URL.")
    var target: String

    @Option(name: .customLong("table-mappings"), help: "The DMS table-mapping JSON file the migration used.")
    var tableMappings: String?

    @Option(help: "Tables compared at once.")
    var threads: Int = 4

    @Option(name: .customLong("max-differences"), help: "Differences listed per table; more are counted.")
    var maxDifferences: Int = 1000

    @Flag(help: "Re-copy the differing rows from the source, then validate again.")
    var repair = false

    @Flag(help: "Print the report as JSON.")
    var json = false

    @Flag(help: "Log each step on standard error.")
    var verbose = false

    func run() async throws {
        let sourceURL: ConnectionURL, targetURL: ConnectionURL
        var options = ValidationOptions()
        let mappings: TableMappings
        do {
            sourceURL = try ConnectionURL.parse(source, field: "--source")
            targetURL = try ConnectionURL.parse(target, field: "--target")
            mappings = try MappingsFile.load(tableMappings)
            guard (1...64).contains(threads) else { throw FerryError.invalidParameter("--threads", "must be between 1 and 64, got \(threads)") }
            guard maxDifferences >= 0 else { throw FerryError.invalidParameter("--max-differences", "must not be negative") }
        } catch let error as FerryError {
            Terminal.error(error.message)
            throw ExitCode(2)
        }
        options.threadCount = threads
        options.failureMaxCount = maxDifferences
        let runner = ValidationRunner(source: Connectors.source(for: sourceURL), target: Connectors.source(for: targetURL),
                                      writer: Connectors.target(for: targetURL), mappings: mappings, options: options,
                                      logger: CLILogging.logger(verbose: verbose))
        if !json { Terminal.line("Ferry validation: \(sourceURL) -> \(targetURL)") }
        let quiet = json
        let work = Task {
            try await runner.run(repair: repair) { table in
                if !quiet { Terminal.line(ValidationReport.line(table)) }
            }
        }
        let interrupt = InterruptHandler { work.cancel() }
        let result = await work.result
        interrupt.stop()
        switch result {
        case let .success(tables):
            Terminal.line(json ? ValidationReport.json(tables) : ValidationReport.summary(tables))
            if tables.isEmpty || !tables.allSatisfy(\.matches) { throw ExitCode(1) }
        case let .failure(error):
            Terminal.error("\(error)")
            throw ExitCode(1)
        }
    }
}
