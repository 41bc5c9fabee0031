import ArgumentParser
import FerryAPI
import FerryConnectors
import FerryCore
import FerryEngine
import Foundation
import GRDB

struct Demo: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The life of a migration on two SQLite files, with no server to install: full load, change data capture while a shop takes orders, validation, cutover with its write pause, and a rollback."
    )

    @Option(help: "Folder for the two demo databases.")
    var dir: String = "ferry-demo"

    @Option(help: "Number of orders in the sample database (customers, products and order lines scale with it).")
    var orders: Int = 50_000

    func run() async throws {
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let shop = (dir as NSString).appendingPathComponent("shop.db"), copy = (dir as NSString).appendingPathComponent("shop-copy.db")
        for path in [shop, copy, "\(dir)/ferry-cutover-demo.json"] {
            for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
        }
        Terminal.line("Building the sample database \(shop) (\(orders) orders)…")
        try DemoDatabase.create(at: shop, orders: max(orders, 10))
        let old = ConnectionURL(engine: .sqlite, host: "", database: shop), new = ConnectionURL(engine: .sqlite, host: "", database: copy)
        let life = DemoLife(old: old, new: new, journal: "\(dir)/ferry-cutover-demo.json")
        try await life.run()
    }
}

/// The demo's migration, step by step, with a shop that keeps taking orders.
struct DemoLife {
    let old: ConnectionURL
    let new: ConnectionURL
    let journal: String
    static let task = "demo"

    func run() async throws {
        Terminal.line("1. Full load and change data capture: \(old) -> \(new)")
        let forward = DemoLife.replication(from: old, to: new, task: Self.task, fullLoad: true)
        let running = Task { try await forward.run() }
        let display = ProgressDisplay(status: forward.loadStatus, interactive: Terminal.isInteractive, quiet: false)
        let reporter = Task { await display.run() }
        try await waitFor("the load") { forward.status.snapshot().phase == .changeCapture }
        reporter.cancel()
        _ = await reporter.result
        display.finish()
        Terminal.line(SummaryReport.text(tables: forward.loadStatus.snapshot(), interrupted: false))

        Terminal.line("\n2. The shop takes orders on \(old.database!) while they stream to the copy")
        let taken = try await takeOrders(on: old, count: 200)
        try await waitFor("the changes") { forward.status.snapshot().changesApplied >= taken }
        Terminal.line("   \(taken) orders taken; \(forward.status.snapshot().changesApplied) changes applied, lag " + CutoverReadiness.evaluate(forward.status.snapshot()).summary)

        Terminal.line("\n3. Validation: every row compared")
        try await validate(old, new)

        Terminal.line("\n4. Cutover")
        let reverseTask = Self.task + "-reverse"
        let reverse = StartedReplication(from: new, to: old, task: reverseTask)
        let cutover = try await cut(from: old, to: new, task: Self.task, reverseTask: reverseTask, rollback: false, startReverse: reverse.start)
        _ = await running.result
        do {
            _ = try await takeOrders(on: old, count: 1)
        } catch {
            Terminal.line("   a write to the old database is refused: \(error)")
        }
        let back = try await takeOrders(on: new, count: 50)
        try await waitFor("the reverse stream") { try reverse.applied() >= back }
        Terminal.line("   the shop took \(back) orders on \(new.database!); the reverse stream carried them back")

        Terminal.line("\n5. Rollback")
        let again = StartedReplication(from: old, to: new, task: Self.task)
        let rollback = try await cut(from: new, to: old, task: reverseTask, reverseTask: Self.task, rollback: true, startReverse: again.start)
        await reverse.wait()
        _ = try await takeOrders(on: old, count: 20)
        try await waitFor("the forward stream") { try again.applied() >= 20 }
        try await validate(old, new)
        await again.stop()
        Terminal.line(String(format: "\nDone: cutover write pause %.3f s, rollback write pause %.3f s, nothing lost either way.",
                             cutover.writePauseSeconds ?? 0, rollback.writePauseSeconds ?? 0))
        Terminal.line("Next: point --target at a real server, e.g.\n  ferry migrate --source sqlite://\(old.database!) --target postgres://postgres@127.0.0.1:5432/postgres --mode full-load-and-cdc")
    }

    static func replication(from source: ConnectionURL, to target: ConnectionURL, task: String, fullLoad: Bool,
                            start: CdcStart? = nil) -> ReplicationRunner {
        var options = ReplicationOptions(task: task, fullLoad: fullLoad)
        options.heartbeatSeconds = 1
        options.start = start
        options.fresh = start != nil
        return ReplicationRunner(source: Connectors.source(for: source), target: Connectors.target(for: target), load: FullLoadOptions(),
                                 options: options, logger: CLILogging.logger(verbose: false))
    }

    /// Cuts over and prints the report; `startReverse` starts the stream back from the position captured under the freeze.
    private func cut(from source: ConnectionURL, to target: ConnectionURL, task: String, reverseTask: String, rollback: Bool,
                     startReverse: @escaping @Sendable (String) async throws -> Void) async throws -> CutoverRecord {
        var options = CutoverOptions(task: task, reverseTask: reverseTask)
        // The demo validates the whole copy before the cutover and after the rollback; comparing it again
        // under the freeze would only lengthen the pause.
        options.validate = false
        let runner = CutoverRunner(source: Connectors.source(for: source), target: Connectors.target(for: target),
                                   targetAsSource: Connectors.source(for: target), load: FullLoadOptions(), options: options,
                                   journal: FileCutoverJournal(path: journal),
                                   hooks: CutoverHooks(startReverse: { _, position in try await startReverse(position) }, resumeForward: {}),
                                   logger: CLILogging.logger(verbose: false))
        let record = try await runner.run()
        Terminal.line(CutoverReport.text(CutoverDescription(record, taskArn: task), rollback: rollback).split(separator: "\n").map { "   " + $0 }.joined(separator: "\n"))
        guard record.machine.step == .completed else { throw ExitCode(1) }
        return record
    }

    /// Inserts orders without ids, one transaction each, as the shop's application would.
    private func takeOrders(on url: ConnectionURL, count: Int) async throws -> Int {
        try await BlockingWork.run("demo-shop") {
            var configuration = Configuration()
            configuration.busyMode = .timeout(10)
            let queue = try DatabaseQueue(path: url.database!, configuration: configuration)
            for n in 0..<count {
                try queue.write { db in
                    try db.execute(sql: "INSERT INTO orders (customer_id, ordered_at, status, note) VALUES (1, datetime('now'), 'new', ?)",
                                   arguments: ["demo order \(n)"])
                }
            }
            return count
        }
    }

    private func validate(_ source: ConnectionURL, _ target: ConnectionURL) async throws {
        let runner = ValidationRunner(source: Connectors.source(for: source), target: Connectors.source(for: target),
                                      writer: Connectors.target(for: target), mappings: .includeAll, options: ValidationOptions(),
                                      logger: CLILogging.logger(verbose: false))
        let tables = try await runner.run()
        Terminal.line("   " + ValidationReport.summary(tables))
        guard tables.allSatisfy(\.matches) else { throw ExitCode(1) }
    }

    /// Waits until `condition` holds; a run that failed meanwhile throws its error from the condition.
    private func waitFor(_ what: String, _ condition: @escaping () throws -> Bool) async throws {
        let deadline = Date().addingTimeInterval(120)
        while try !condition() {
            guard Date() < deadline else { throw FerryError(.database, "the demo timed out waiting for \(what)") }
            try await Task.sleep(for: .milliseconds(50))
        }
    }
}

/// A `cdc` replication the demo starts once a cutover knows where it begins.
final class StartedReplication: @unchecked Sendable {
    private let source: ConnectionURL, target: ConnectionURL, task: String
    private let lock = NSLock()
    private var runner: ReplicationRunner?
    private var work: Task<Void, Error>?
    private var failure: Error?

    init(from source: ConnectionURL, to target: ConnectionURL, task: String) {
        self.source = source
        self.target = target
        self.task = task
    }

    @Sendable func start(_ position: String) async throws {
        let runner = DemoLife.replication(from: source, to: target, task: task, fullLoad: false, start: .position(position))
        lock.withLock {
            self.runner = runner
            work = Task { [self] in
                do { try await runner.run() } catch {
                    lock.withLock { failure = error }
                    throw error
                }
            }
        }
    }

    /// Row changes applied so far; throws the error the run failed with, if it did.
    func applied() throws -> Int {
        try lock.withLock {
            if let failure { throw failure }
            return runner?.status.snapshot().changesApplied ?? 0
        }
    }

    /// Waits until the run ends by itself (a cutover's stop marker).
    func wait() async { _ = await lock.withLock({ work })?.result }

    func stop() async {
        let work = lock.withLock { self.work }
        work?.cancel()
        _ = await work?.result
    }
}
