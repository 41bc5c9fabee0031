import ArgumentParser
import FerryAPI
import FerryConnectors
import FerryCore
import FerryEngine
import Foundation

/// The flags `ferry cutover` and `ferry rollback` share.
struct CutoverFlags: ParsableArguments {
    @Option(name: .customLong("endpoint-url"), help: "A Ferry server (`ferry serve`) that runs the task: the cutover runs there, called over the DMS protocol with the AWS_* credentials of the environment.")
    var endpointURL: String?

    @Option(help: "Source database URL (beside `ferry migrate`): the database the application writes to now.")
    var source: String?

    @Option(help: "Target database URL (beside `ferry migrate`): the database the application moves to.")
    var target: String?

    @Option(help: "The replication task: with --endpoint-url its identifier or ARN; beside `ferry migrate` its --task (default: derived from the two URLs, as `ferry migrate` derives it).")
    var task: String?

    @Option(name: .customLong("table-mappings"), help: "The DMS table-mapping JSON file the migration used.")
    var tableMappings: String?

    @Option(name: .customLong("max-lag"), help: "Refuse to freeze writes when a marker takes longer than this many seconds to reach the target.")
    var maxLag = CutoverOptions.defaultMaxLag

    @Option(help: "The longest write pause allowed, in seconds; when it runs out everything is undone and writes resume.")
    var timeout = CutoverOptions.defaultTimeout

    @Option(help: "full (compare every migrated table while writes are frozen; undo on any difference) or none.")
    var validate: String = "full"

    @Flag(name: .customLong("no-reverse"), help: "Do not prepare replication back to the source (no rollback).")
    var noReverse = false

    @Flag(name: .customLong("dry-run"), help: "Check the guardrails and print every step, lock and position; change nothing.")
    var dryRun = false

    @Option(help: "The cutover journal (default: ferry-cutover-<task>.json here); a cutover interrupted by a crash is undone from it.")
    var journal: String?

    @Flag(help: "Print the report as JSON.")
    var json = false

    @Flag(help: "Log each step on standard error.")
    var verbose = false

    /// Checks the flags every cutover takes.
    func check() throws {
        guard maxLag > 0 else { throw FerryError.invalidParameter("--max-lag", "must be above 0 seconds") }
        guard timeout > 0 else { throw FerryError.invalidParameter("--timeout", "must be above 0 seconds") }
        guard ["full", "none"].contains(validate) else { throw FerryError.invalidParameter("--validate", "must be full or none, got '\(validate)'") }
    }

    /// The databases and mappings of a cutover beside `ferry migrate`.
    func local() throws -> (source: ConnectionURL, target: ConnectionURL, mappings: TableMappings) {
        guard let source, let target else {
            throw FerryError.invalidParameter(source == nil ? "--source" : "--target", "is needed without --endpoint-url (a cutover beside `ferry migrate`)")
        }
        return (try ConnectionURL.parse(source, field: "--source"), try ConnectionURL.parse(target, field: "--target"),
                try MappingsFile.load(tableMappings))
    }
}

struct Cutover: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Move the application from the source to the target: freeze writes, prove the target has every change, sync counters, start replication back, release.",
        discussion: """
        Runs beside `ferry migrate --mode full-load-and-cdc` (or cdc), which keeps the target in sync. The
        two meet in the source's change stream: the cutover writes a marker there while writes are frozen,
        and the migrate run stops exactly at it. Exit code 0 means the cutover completed (the application may
        move), 1 that it was refused or undone (the source stays primary), 2 bad input. See docs/cutover.md.
        """
    )

    @OptionGroup var flags: CutoverFlags

    @Flag(help: "End a completed cutover for good: remove the reverse capture, the write fences and both tasks' control rows (stop the reverse `ferry migrate` first; with --endpoint-url the server stops its reverse task).")
    var complete = false

    func run() async throws {
        if complete {
            try await CutoverCommand.complete(flags)
        } else {
            try await CutoverCommand.run(flags, rollback: false)
        }
    }
}

struct Rollback: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Move the application back after a cutover: the same steps the other way, over the reverse replication the cutover started.",
        discussion: """
        Takes the same --source, --target and --task as the cutover did. It freezes the target, waits until
        the reverse task has applied every change to the source, syncs the source's counters and prepares the
        forward task again from where the source stands.
        """
    )

    @OptionGroup var flags: CutoverFlags

    func run() async throws {
        try await CutoverCommand.run(flags, rollback: true)
    }
}

/// What `ferry cutover` and `ferry rollback` do: the same runner, with source and target swapped for a rollback.
enum CutoverCommand {
    static func run(_ flags: CutoverFlags, rollback: Bool) async throws {
        let cutover: CutoverDescription
        do {
            try flags.check()
            if let endpointURL = flags.endpointURL {
                cutover = try await remote(flags, client: try DMSClient(endpointURL: endpointURL), rollback: rollback)
            } else {
                cutover = try await local(flags, rollback: rollback)
            }
        } catch let error as FerryError {
            Terminal.error(error.message)
            throw ExitCode(error.kind == .invalidParameter ? 2 : 1)
        }
        Terminal.line(flags.json ? CutoverReport.json(cutover) : CutoverReport.text(cutover, rollback: rollback))
        if cutover.Status != "completed" { throw ExitCode(1) }
    }

    /// `ferry cutover --complete`, beside `ferry migrate` or in a server.
    static func complete(_ flags: CutoverFlags) async throws {
        do {
            let removed: [String]
            if let endpointURL = flags.endpointURL {
                guard let task = flags.task else { throw FerryError.invalidParameter("--task", "names the replication task (its identifier or ARN)") }
                let client = try DMSClient(endpointURL: endpointURL)
                let answer = try await client.call("CompleteCutover", ["ReplicationTaskArn": try await client.taskArn(task)])
                removed = answer["Removed"] as? [String] ?? []
            } else {
                let parsed = try flags.local()
                let task = flags.task ?? Replicate.defaultTask(parsed.source, parsed.target)
                removed = try await CutoverCompletion(
                    source: Connectors.source(for: parsed.source), sourceAsTarget: Connectors.target(for: parsed.source),
                    target: Connectors.target(for: parsed.target), targetAsSource: Connectors.source(for: parsed.target),
                    load: FullLoadOptions(mappings: parsed.mappings), task: task, reverseTask: CutoverOptions(task: task).reverseTask).run()
            }
            Terminal.line("cutover completed for good; removed " + removed.joined(separator: ", "))
        } catch let error as FerryError {
            Terminal.error(error.message)
            throw ExitCode(error.kind == .invalidParameter ? 2 : 1)
        }
    }

    /// A cutover run by a Ferry server: StartCutover, then DescribeCutovers until it ends. A rollback is a
    /// cutover of the task the last cutover started to replicate back.
    static func remote(_ flags: CutoverFlags, client: DMSClient, rollback: Bool) async throws -> CutoverDescription {
        guard let task = flags.task else { throw FerryError.invalidParameter("--task", "names the replication task (its identifier or ARN)") }
        var arn = try await client.taskArn(task)
        if rollback {
            guard let last = try await client.cutover(of: arn), last.Status == "completed", !last.DryRun else {
                throw FerryError.invalidParameter("--task", "task \(task) has no completed cutover to roll back")
            }
            arn = try await client.taskArn(last.ReverseReplicationTaskIdentifier)
        }
        let started = try await client.call("StartCutover", [
            "ReplicationTaskArn": arn, "MaxLagSeconds": flags.maxLag, "TimeoutSeconds": flags.timeout,
            "ReverseReplication": !flags.noReverse, "DryRun": flags.dryRun, "Validate": flags.validate,
        ])
        let id = (started["Cutover"] as? [String: Any])?["CutoverId"] as? String
        var shown: String?
        while true {
            if let cutover = try await client.cutover(of: arn), cutover.CutoverId == id {
                if ["completed", "aborted"].contains(cutover.Status) { return cutover }
                if !flags.json, cutover.Status != shown { Terminal.line("\(rollback ? "rollback" : "cutover"): \(cutover.Status)") }
                shown = cutover.Status
            }
            try await Task.sleep(for: .milliseconds(100))
        }
    }

    /// A cutover beside `ferry migrate`, run here.
    static func local(_ flags: CutoverFlags, rollback: Bool) async throws -> CutoverDescription {
        let parsed = try flags.local()
        let forwardTask = flags.task ?? Replicate.defaultTask(parsed.source, parsed.target)
        let reverseTask = CutoverOptions(task: forwardTask).reverseTask
        // A rollback is a cutover of the reverse task, whose own reverse is the forward task started afresh.
        let (from, to) = rollback ? (parsed.target, parsed.source) : (parsed.source, parsed.target)
        let task = rollback ? reverseTask : forwardTask
        var options = CutoverOptions(task: task, reverseTask: rollback ? forwardTask : reverseTask)
        options.maxLag = flags.maxLag
        options.timeout = flags.timeout
        options.reverse = !flags.noReverse
        options.dryRun = flags.dryRun
        options.validate = flags.validate == "full"
        let mappings = rollback ? try reverseMappings(parsed) : parsed.mappings
        let journalPath = flags.journal ?? "ferry-cutover-\(forwardTask).json"
        let source = Connectors.source(for: from), target = Connectors.target(for: to)
        let load = FullLoadOptions(mappings: mappings)
        let quiet = flags.json
        let runner = CutoverRunner(
            source: source, target: target, targetAsSource: Connectors.source(for: to), load: load, options: options,
            journal: FileCutoverJournal(path: journalPath),
            hooks: CutoverHooks(
                startReverse: { reverse, position in
                    let file = rollback ? flags.tableMappings : try writeReverseMappings(source: source, target: target, mappings: mappings, forwardTask: forwardTask)
                    if !quiet {
                        Terminal.line("replicate back with (a password shows as ***): ferry migrate --mode cdc --source '\(to)' --target '\(from)' --task \(reverse) --cdc-start-position \(position)"
                            + (file.map { " --table-mappings \($0)" } ?? ""))
                    }
                },
                resumeForward: {
                    throw FerryError(.invalidParameter, "if `ferry migrate` for task \(task) stopped, run it again with the same arguments: it resumes where it stopped")
                }),
            logger: CLILogging.logger(verbose: flags.verbose))
        if let undone = try await runner.recover() {
            Terminal.warning("cutover \(undone.id), interrupted at \(undone.machine.failedStep?.rawValue ?? "?"), was undone")
            undone.warnings.forEach { Terminal.warning($0) }
        }
        let record = try await runner.run { record in
            if !quiet, !record.machine.isFinished, let step = record.machine.step { Terminal.line("\(rollback ? "rollback" : "cutover"): \(step.rawValue)") }
        }
        return CutoverDescription(record, taskArn: task)
    }

    /// Writes the reverse task's mappings to `ferry-cutover-<task>-reverse.json` here and returns its path.
    static func writeReverseMappings(source: any SourceConnector, target: any TargetConnector, mappings: TableMappings,
                                     forwardTask: String) throws -> String {
        let path = "ferry-cutover-\(forwardTask)-reverse.json"
        try Data(try reverseMappingsJSON(source: source, target: target, mappings: mappings).utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    /// The mappings that take the target's tables back to the source's, as the cutover wrote them.
    static func reverseMappings(_ parsed: (source: ConnectionURL, target: ConnectionURL, mappings: TableMappings)) throws -> TableMappings {
        try TableMappings(json: try reverseMappingsJSON(source: Connectors.source(for: parsed.source), target: Connectors.target(for: parsed.target),
                                                        mappings: parsed.mappings))
    }

    private static func reverseMappingsJSON(source: any SourceConnector, target: any TargetConnector, mappings: TableMappings) throws -> String {
        let plans = try FullLoadRunner(source: source, target: target, options: FullLoadOptions(mappings: mappings), status: FullLoadStatus()).discoverPlans()
        return try ReverseMappings.json(plans, target: target)
    }
}
