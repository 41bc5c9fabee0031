import ArgumentParser
import FerryConnectors
import FerryCore
import FerryEngine
import Foundation

struct Demo: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Build a sample SQLite shop database and migrate it into another SQLite database, with no server to install."
    )

    @Option(help: "Folder for the two demo databases.")
    var dir: String = "ferry-demo"

    @Option(help: "Number of orders in the sample database (customers, products and order lines scale with it).")
    var orders: Int = 50_000

    func run() async throws {
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let sourcePath = (dir as NSString).appendingPathComponent("shop.db")
        let targetPath = (dir as NSString).appendingPathComponent("shop-copy.db")
        for path in [sourcePath, targetPath] {
            for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
        }
        Terminal.line("Building the sample database \(sourcePath) (\(orders) orders)…")
        try DemoDatabase.create(at: sourcePath, orders: max(orders, 10))
        let source = ConnectionURL(engine: .sqlite, host: "", database: sourcePath)
        let target = ConnectionURL(engine: .sqlite, host: "", database: targetPath)
        Terminal.line("Migrating \(source) -> \(target)")
        let runner = FullLoadRunner(source: Connectors.source(for: source), target: Connectors.target(for: target),
                                    options: FullLoadOptions(), logger: CLILogging.logger(verbose: false))
        let display = ProgressDisplay(status: runner.status, interactive: Terminal.isInteractive, quiet: false)
        let reporter = Task { await display.run() }
        let tables = try await runner.run()
        reporter.cancel()
        _ = await reporter.result
        display.finish()
        Terminal.line(SummaryReport.text(tables: tables, interrupted: false))
        Terminal.line("\nNext: point --target at a real server, e.g.\n  ferry migrate --source sqlite://\(sourcePath) --target postgres://postgres@127.0.0.1:5432/postgres")
        if !tables.allSatisfy({ $0.state == .completed }) { throw ExitCode(1) }
    }
}
