import ArgumentParser
import FerryConnectors
import FerryCore
import FerryEngine
import Foundation

struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Copy tables from a source database to a target database.",
        discussion: """
        URLs: postgres://user:pw@host:5432/db, mysql://user:pw@host:3306/db (or mariadb://), sqlite:///path/file.db.
        A MySQL source URL without a database offers every non-system database to the table mappings.
        """
    )

    @Option(help: "Source database URL.")
    var source: String

    @Option(help: "Target database URL.")
    var target: String

    @Option(help: "full-load, full-load-and-cdc (load, then keep the target in sync until stopped) or cdc (only changes from now on). Change data capture reads PostgreSQL's WAL, MySQL's binlog or SQLite triggers.")
    var mode: String = "full-load"

    @Option(help: "Names the replication for CDC modes: the source's slot and publication are ferry_<task>, and the target's ferry_apply_status row is <task>. Default: derived from the two URLs.")
    var task: String?

    @Option(name: .customLong("cdc-start-position"), help: "With --mode cdc: start at this source position (an LSN like 0/16B3748, a binlog position like mysql-bin.000003:1234, a DMS checkpoint) or time (2024-01-02T03:04:05, UTC) instead of now.")
    var cdcStartPosition: String?

    @Option(name: .customLong("cdc-stop-position"), help: "Stop by itself at server_time:2024-01-02T03:04:05 or commit_time:2024-01-02T03:04:05 (UTC), once every change committed before it is applied.")
    var cdcStopPosition: String?

    @Option(name: .customLong("table-mappings"), help: "A DMS table-mapping JSON file (selection and transformation rules).")
    var tableMappings: String?

    @Option(name: .customLong("task-settings"), help: "A DMS ReplicationTaskSettings JSON file, checked as the API checks it: TargetTablePrepMode, MaxFullLoadSubTasks, LOB limits, ErrorBehavior's table and truncation policies, DDL handling and batching take effect; the flags below override it.")
    var taskSettings: String?

    @Option(name: .customLong("target-table-prep-mode"), help: "drop-and-create (default), truncate-before-load or do-nothing.")
    var prepMode: String?

    @Option(help: "Tables (or chunks of large tables) loaded at once (default 8).")
    var parallel: Int?

    @Flag(name: .customLong("no-secondary-objects"), help: "Do not create secondary indexes and foreign keys after the data.")
    var noSecondaryObjects = false

    @Flag(help: "Print the plan instead of loading: every selected table and column as it will land on the target (name, type, key, default, the rule-ids that changed it) and every rule that matched nothing. Nothing is written.")
    var plan = false

    @Flag(help: "Print the summary (or the plan) as JSON.")
    var json = false

    @Flag(help: "Log each step (chunks, indexes) on standard error.")
    var verbose = false

    @Option(name: .customLong("metrics-listen"), help: "Answer GET /metrics on HOST:PORT with the run's figures in Prometheus's format while it runs (docs/metrics.md).")
    var metricsListen: String?

    func run() async throws {
        let options: FullLoadOptions
        let settings: TaskSettings?
        let sourceURL: ConnectionURL
        let targetURL: ConnectionURL
        var start: CdcStart?
        var stop: CdcStop?
        var metricsAddress: ListenAddress?
        do {
            metricsAddress = try metricsListen.map { try ListenAddress.parse($0, field: "--metrics-listen") }
            sourceURL = try ConnectionURL.parse(source, field: "--source")
            targetURL = try ConnectionURL.parse(target, field: "--target")
            do { try Connectors.checkTarget(targetURL) } catch let error as FerryError {
                throw FerryError.invalidParameter("--target", error.message)
            }
            settings = try taskSettings.map(Self.readSettings)
            options = try makeOptions(settings)
            if let unhonoured = settings?.unhonouredByMigrate, !unhonoured.isEmpty {
                Terminal.warning("--task-settings sets \(unhonoured.joined(separator: ", ")), which ferry migrate accepts but does not act on (docs/task-settings.md)")
            }
            if let text = cdcStartPosition {
                guard mode == "cdc" else { throw FerryError.invalidParameter("--cdc-start-position", "applies to --mode cdc (a full load starts the stream where its snapshot ends)") }
                guard let parsed = CdcStart.parse(text) else { throw FerryError.invalidParameter("--cdc-start-position", "'\(text)' is not a position or a time") }
                start = parsed
            }
            if let text = cdcStopPosition {
                guard mode != "full-load" else { throw FerryError.invalidParameter("--cdc-stop-position", "applies to --mode cdc and full-load-and-cdc") }
                guard let parsed = CdcStop.parse(text) else { throw FerryError.invalidParameter("--cdc-stop-position", "expected server_time:2024-01-02T03:04:05 or commit_time:2024-01-02T03:04:05; got '\(text)'") }
                stop = parsed
            }
        } catch let error as FerryError {
            Terminal.error(error.message)
            throw ExitCode(2)
        }
        if plan {
            try await printPlan(source: sourceURL, target: targetURL, options: options)
            return
        }
        if mode != "full-load" {
            try await Replicate.run(source: sourceURL, target: targetURL, load: options, settings: settings, fullLoad: mode == "full-load-and-cdc",
                                    task: task, bounds: (start, stop), json: json, verbose: verbose, metrics: metricsAddress)
            return
        }
        let runner = FullLoadRunner(source: Connectors.source(for: sourceURL), target: Connectors.target(for: targetURL),
                                    options: options, logger: CLILogging.logger(verbose: verbose))
        if !json { Terminal.line("Ferry full load: \(sourceURL) -> \(targetURL)") }
        let display = ProgressDisplay(status: runner.status, interactive: !json && Terminal.isInteractive, quiet: json)
        let metrics = metricsAddress.map { address in
            MigrateMetrics(address, task: task ?? Replicate.defaultTask(sourceURL, targetURL), mode: mode, source: sourceURL, target: targetURL) {
                $0.record(load: runner.status.snapshot())
            }
        }
        let work = Task { try await runner.run() }
        let interrupt = InterruptHandler { work.cancel() }
        let reporter = Task { await display.run() }
        let result = await work.result
        reporter.cancel()
        _ = await reporter.result
        interrupt.stop()
        metrics?.finish(result)
        let tables: [TableProgress]
        switch result {
        case let .success(value): tables = value
        case let .failure(error):
            display.finish()
            if json {
                Terminal.line(SummaryReport.json(tables: runner.status.snapshot(), warnings: runner.status.warnings, error: "\(error)"))
            } else {
                Terminal.error("\(error)")
            }
            throw ExitCode(Self.exitCode(error))
        }
        display.finish()
        if json {
            Terminal.line(SummaryReport.json(tables: tables, warnings: runner.status.warnings, error: nil))
        } else {
            Terminal.line(SummaryReport.text(tables: tables, warnings: runner.status.warnings, interrupted: work.isCancelled))
        }
        if !tables.allSatisfy({ $0.state == .completed }) || tables.isEmpty { throw ExitCode(1) }
    }

    /// 2 for a mistake in what was asked (a mapping rule that names nothing), 1 for any other failure.
    static func exitCode(_ error: Error) -> Int32 {
        (error as? FerryError)?.kind == .invalidParameter ? 2 : 1
    }

    private func printPlan(source: ConnectionURL, target: ConnectionURL, options: FullLoadOptions) async throws {
        let runner = FullLoadRunner(source: Connectors.source(for: source), target: Connectors.target(for: target),
                                    options: options, logger: CLILogging.logger(verbose: verbose))
        let plan: LoadPlan
        do {
            plan = try await BlockingWork.run("ferry-plan") { try runner.plan() }
        } catch {
            Terminal.error("\(error)")
            throw ExitCode(Self.exitCode(error))
        }
        if json {
            Terminal.line(PlanReport.json(plan))
        } else {
            Terminal.line("Ferry plan: \(source) -> \(target)")
            Terminal.line(PlanReport.text(plan))
        }
        if plan.tables.contains(where: { $0.error != nil }) { throw ExitCode(1) }
    }

    /// The load's options: defaults, then the task settings file, then the flags given.
    private func makeOptions(_ settings: TaskSettings?) throws -> FullLoadOptions {
        guard ["full-load", "full-load-and-cdc", "cdc"].contains(mode) else {
            throw FerryError.invalidParameter("--mode", "'\(mode)' is not one of full-load, full-load-and-cdc, cdc")
        }
        var options = FullLoadOptions(mappings: try MappingsFile.load(tableMappings), createSecondaryObjects: !noSecondaryObjects)
        settings?.apply(to: &options)
        if let task { options.taskName = task }
        if let prepMode {
            guard let prep = TargetTablePrepMode(flag: prepMode) else {
                throw FerryError.invalidParameter("--target-table-prep-mode", "'\(prepMode)' is not one of drop-and-create, truncate-before-load, do-nothing")
            }
            options.prepMode = prep
        }
        if let parallel {
            guard (1...64).contains(parallel) else {
                throw FerryError.invalidParameter("--parallel", "must be between 1 and 64, got \(parallel)")
            }
            options.parallelism = parallel
        }
        return options
    }

    private static func readSettings(_ path: String) throws -> TaskSettings {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw FerryError.invalidParameter("--task-settings", "cannot read file '\(path)'")
        }
        do {
            return try TaskSettings(text)
        } catch let error as FerryError {
            throw FerryError.invalidParameter("--task-settings", error.message)
        }
    }
}
