import ArgumentParser
import FerryConnectors
import FerryCore
import FerryEngine
import Foundation

/// `ferry migrate --mode full-load-and-cdc | cdc`: loads (or not), then keeps the target in sync until stopped.
enum Replicate {
    static func run(source: ConnectionURL, target: ConnectionURL, load: FullLoadOptions, settings: TaskSettings?, fullLoad: Bool,
                    task: String?, bounds: (start: CdcStart?, stop: CdcStop?), json: Bool, verbose: Bool, metrics address: ListenAddress?) async throws {
        let name = task ?? defaultTask(source, target)
        var options = ReplicationOptions(task: name, fullLoad: fullLoad)
        settings?.apply(to: &options)
        options.start = bounds.start
        options.stop = bounds.stop
        // A given start position starts over from there rather than resuming.
        options.fresh = bounds.start != nil
        let runner = ReplicationRunner(source: Connectors.source(for: source), target: Connectors.target(for: target),
                                       load: load, options: options, logger: CLILogging.logger(verbose: verbose))
        Terminal.line("Ferry \(fullLoad ? "full load and " : "")change data capture: \(source) -> \(target) (task \(name); Ctrl-C stops, the same --task resumes)")
        let display = ProgressDisplay(status: runner.loadStatus, interactive: !json && Terminal.isInteractive, quiet: json)
        let metrics = address.map { address in
            MigrateMetrics(address, task: name, mode: fullLoad ? "full-load-and-cdc" : "cdc", source: source, target: target) {
                $0.record(load: runner.loadStatus.snapshot())
                $0.record(replication: runner.status.snapshot())
            }
        }
        let work = Task { try await runner.run() }
        let interrupt = InterruptHandler { work.cancel() }
        let reporter = Task {
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await display.run() }
                group.addTask { await report(runner.status, json: json) }
            }
        }
        let result = await work.result
        reporter.cancel()
        _ = await reporter.result
        interrupt.stop()
        metrics?.finish(result)
        let final = runner.status.snapshot()
        runner.loadStatus.warnings.forEach { Terminal.warning($0) }
        if case let .failure(error) = result {
            Terminal.error("\(error)")
            throw ExitCode(Migrate.exitCode(error))
        }
        if final.stopReason == ReplicationRunner.stoppedForCutover {
            Terminal.line("stopped for a cutover at source position \(final.position ?? "-") after \(final.transactionsApplied) transactions (\(final.changesApplied) changes): the target has every change made before the source's writes were frozen")
            return
        }
        if let reason = final.stopReason {
            Terminal.line("reached the stop position (\(reason)) at source position \(final.position ?? "-") after \(final.transactionsApplied) transactions (\(final.changesApplied) changes)")
            return
        }
        Terminal.line("stopped at source position \(final.position ?? "-") after \(final.transactionsApplied) transactions (\(final.changesApplied) changes); "
            + "run the same command again to resume from there")
    }

    /// A status line every few seconds once changes stream: applied, rate and both latencies.
    static func report(_ status: ReplicationStatus, json: Bool) async {
        while !Task.isCancelled {
            try? await Task.sleep(for: .seconds(json ? 10 : 2))
            let s = status.snapshot()
            guard s.phase == .changeCapture, !Task.isCancelled else { continue }
            var line = String(format: "cdc: %d transactions, %d changes applied (%.0f changes/s), %d incoming, latency source %.1fs target %.1fs, position %@",
                              s.transactionsApplied, s.changesApplied, s.changesPerSecond, s.incomingChanges,
                              s.latencySource, s.latencyTarget, s.position ?? "-")
            if let bytes = s.retainedBytes { line += ", source keeps \(bytes / (1 << 20)) MB of WAL" }
            line += ", cutover " + CutoverReadiness.evaluate(s).summary
            Terminal.line(line)
            if let warning = s.retainedWarning { Terminal.error("warning: \(warning)") }
        }
    }

    /// A task name that stays the same for the same two databases, so a rerun resumes.
    static func defaultTask(_ source: ConnectionURL, _ target: ConnectionURL) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in "\(source.location)->\(target.location)".utf8 {
            hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3
        }
        return "migrate_" + String(hash, radix: 16).prefix(10)
    }
}
