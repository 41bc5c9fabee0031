import FerryCore
import Foundation
import Logging

/// What a cutover is asked to do.
public struct CutoverOptions: Sendable {
    /// The lag above which a cutover is refused, and the longest write pause, unless set (as in Vitess).
    public static let defaultMaxLag: Double = 30
    public static let defaultTimeout: Double = 30

    /// The forward replication task (its markers, its row in `ferry_apply_status`).
    public var task: String
    /// Refuse to freeze when a marker takes longer than this to reach the target, in seconds (`--max-lag`).
    public var maxLag = Self.defaultMaxLag
    /// The longest write pause allowed, in seconds (`--timeout`): past it everything is undone.
    public var timeout = Self.defaultTimeout
    /// Prepare and start replication from the target back to the source (`--no-reverse` turns it off).
    public var reverse = true
    /// Check the guardrails and stop, changing nothing (`--dry-run`).
    public var dryRun = false
    /// Compare every migrated table under the freeze and undo on any difference (`--validate full`).
    public var validate = true
    /// Schema of `ferry_apply_status` on the target (DMS `ControlTablesSettings.ControlSchema`).
    public var controlSchema = ""
    /// How far past the source's counters the target's are moved, so that values the source handed out
    /// while the cutover ran cannot collide (GitLab Geo uses the same margin).
    public var counterMargin: Int64 = 1000
    /// The reverse task's name: the forward task's with `-reverse`.
    public var reverseTask: String

    public init(task: String, reverseTask: String? = nil) {
        self.task = task
        self.reverseTask = reverseTask ?? task + "-reverse"
    }
}

/// What the door that started the cutover does for it: extra guardrails (a task's apply errors), and
/// starting a replication (the reverse one, or the forward one again after an undo).
public struct CutoverHooks: Sendable {
    /// Refusals the door adds to the runner's own.
    public var guardrails: @Sendable () async -> [String]
    /// Starts `task` replicating changes after `position` (the reverse stream).
    public var startReverse: @Sendable (_ task: String, _ position: String) async throws -> Void
    /// Starts the forward task again, resuming from the target's position (after an undo).
    public var resumeForward: @Sendable () async throws -> Void
    /// Told the outcome (completed or aborted) before the journal shows the cutover finished, so whoever
    /// sees it finished also sees what the door recorded of it (its event).
    public var finished: @Sendable (CutoverRecord) -> Void

    public init(guardrails: @escaping @Sendable () async -> [String] = { [] },
                startReverse: @escaping @Sendable (String, String) async throws -> Void,
                resumeForward: @escaping @Sendable () async throws -> Void,
                finished: @escaping @Sendable (CutoverRecord) -> Void = { _ in }) {
        self.guardrails = guardrails
        self.startReverse = startReverse
        self.resumeForward = resumeForward
        self.finished = finished
    }
}

/// Performs a cutover: feeds the ``CutoverMachine`` the outcome of each action it asks for, journals the
/// record before every action, and measures the write pause. The clock and all IO live here, the
/// decisions in the machine.
public struct CutoverRunner: Sendable {
    public let source: any SourceConnector
    public let target: any TargetConnector
    /// The target read as a source: for the reverse capture and for verification.
    public let targetAsSource: any SourceConnector
    public let load: FullLoadOptions
    public let options: CutoverOptions
    public let journal: any CutoverJournal
    public let hooks: CutoverHooks
    let logger: Logger
    /// How often positions are polled while waiting for the target.
    static let pollSeconds = 0.02

    public init(source: any SourceConnector, target: any TargetConnector, targetAsSource: any SourceConnector,
                load: FullLoadOptions, options: CutoverOptions, journal: any CutoverJournal, hooks: CutoverHooks,
                logger: Logger = Logger(label: "ferry.cutover")) {
        self.source = source
        self.target = target
        self.targetAsSource = targetAsSource
        self.load = load
        self.options = options
        self.journal = journal
        self.hooks = hooks
        self.logger = logger
    }

    /// Runs a cutover to its end (completed or aborted) and returns its record; `progress` sees the
    /// record after every step. Throws only when the journal cannot be written or a cutover interrupted
    /// earlier has not been undone yet.
    public func run(progress: @escaping @Sendable (CutoverRecord) -> Void = { _ in }) async throws -> CutoverRecord {
        if let earlier = try journal.load(), !earlier.machine.isFinished {
            throw FerryError(.invalidParameter, "cutover \(earlier.id) of task \(earlier.task) stopped at \(earlier.status) and is not undone yet: recover it first")
        }
        let plans = try await BlockingWork.run("ferry-cutover-plan") { [self] in
            try FullLoadRunner(source: source, target: target, options: load, status: FullLoadStatus(), logger: logger).discoverPlans()
        }
        var machine = CutoverMachine(reverse: options.reverse, dryRun: options.dryRun)
        let record = CutoverRecord(id: Self.newID(), task: options.task, reverseTask: options.reverseTask, startedAt: Date(),
                                   machine: machine, tables: plans.map(\.source.id.description))
        let session = CutoverSession(record: record, plans: plans)
        return try await drive(&machine, machine.handle(.begin), session, progress)
    }

    /// Undoes a cutover the journal shows unfinished (Ferry stopped in the middle of it); returns its
    /// record, or nil when there is nothing to undo.
    public func recover(progress: @escaping @Sendable (CutoverRecord) -> Void = { _ in }) async throws -> CutoverRecord? {
        guard let record = try journal.load(), !record.machine.isFinished else { return nil }
        var machine = record.machine
        let actions = machine.handle(.resumedAfterCrash)
        logger.warning("cutover \(record.id) of task \(record.task) stopped at \(record.status); undoing it")
        return try await drive(&machine, actions, CutoverSession(record: record, plans: []), progress)
    }

    private func drive(_ machine: inout CutoverMachine, _ first: [CutoverAction], _ session: CutoverSession,
                       _ progress: @Sendable (CutoverRecord) -> Void) async throws -> CutoverRecord {
        var pending = first
        while !pending.isEmpty {
            let action = pending.removeFirst()
            session.record.machine = machine
            try journal.save(session.record)
            progress(session.record)
            let step = machine.step
            let started = Date()
            let event = await perform(action, session)
            if let step, action != .finish { session.record.stepSeconds[step.rawValue, default: 0] += Date().timeIntervalSince(started) }
            if let event { pending += machine.handle(event) }
        }
        session.record.machine = machine
        hooks.finished(session.record)
        try journal.save(session.record)
        progress(session.record)
        return session.record
    }

    /// Performs one action; returns what happened.
    private func perform(_ action: CutoverAction, _ session: CutoverSession) async -> CutoverEvent? {
        do {
            switch action {
            case .checkGuardrails:
                return .checked(refusals: try await guardrails(session))
            case .freeze:
                session.freezeStarted = Date()
                let tables = session.plans.map(\.source.id)
                // The source ends the freeze a second after the runner would: the runner undoes first.
                let freeze = try await blocking { [source, options] in try source.freezeWrites(tables, task: options.task, timeout: options.timeout + 1) }
                session.freeze = freeze
                session.record.freezeMethod = freeze.method
                return session.pastDeadline(options.timeout) ? .timedOut : .frozen
            case .waitForCatchUp:
                let marker = try await writeFrozen(StreamMarker(.sync, task: options.task, cutover: session.record.id), session)
                session.record.syncPosition = marker
                let reached = try await waitUntilApplied(marker, until: session.deadline(options.timeout))
                return reached ? .caughtUp : .timedOut
            case .verify:
                guard options.validate else { return .verified(differences: []) }
                // A comparison that outlasts the write pause is left behind (cancelled) rather than awaited.
                guard let differences = try await Self.finish(by: session.deadline(options.timeout), { try await verify(session) }) else {
                    return .timedOut
                }
                return .verified(differences: differences)
            case .syncCounters:
                let plans = session.plans
                let moved = try await blocking { [source, target, options] in
                    try CounterSync.run(source: source, target: target, plans: plans, margin: options.counterMargin)
                }
                session.record.counters = Dictionary(uniqueKeysWithValues: moved.map { ($0.key.description, $0.value) })
                return session.pastDeadline(options.timeout) ? .timedOut : .countersSynced
            case .prepareReverse:
                let position = try await prepareReverse(session)
                return session.pastDeadline(options.timeout) ? .timedOut : .reversePrepared(position: position)
            case .markStop:
                // Past the deadline the source may have ended the freeze by itself: undo rather than stop there.
                if session.pastDeadline(options.timeout) { return .timedOut }
                session.record.stopPosition = try await writeFrozen(StreamMarker(.stop, task: options.task, cutover: session.record.id), session)
                return .stopMarked
            case .fence:
                try await fence(session)
                return .fenced
            case .release:
                try await release(session)
                await unfenceTarget(session)
                return .released
            case let .startReverse(position):
                try await hooks.startReverse(options.reverseTask, position)
                return .reverseStarted
            case let .undo(plan):
                await undo(plan, session)
                return .undone
            case .finish:
                if session.record.machine.step == .completed, !options.dryRun { await cleanUp(session) }
                return nil
            }
        } catch {
            logger.warning("cutover \(session.record.id): \(action) failed: \(error)")
            return .failed("\(error)")
        }
    }

    /// The runner's own guardrails and the door's: no transaction stands in the way on either side, the
    /// task streams, and a marker written now reaches the target within `maxLag`.
    private func guardrails(_ session: CutoverSession) async throws -> [String] {
        var refusals = await hooks.guardrails()
        refusals += try await blocking { [source, targetAsSource, options, plans = session.plans] in
            var refusals = try source.cutoverBlockers(olderThan: options.timeout, asNewPrimary: false)
                + targetAsSource.cutoverBlockers(olderThan: options.timeout, asNewPrimary: true)
            // The way back: the premigration checks of the reverse stream, run again now.
            if options.reverse {
                let targets = try targetAsSource.discover(.exactly(plans.map { target.normalize($0.written.target) }))
                refusals += (try targetAsSource.assess(targets, as: .target) + [AssessmentRunner.reverseReplication(plans, failing: .failed)])
                    .filter { $0.status >= .failed }
                    .map { "rollback would not be possible: \($0.name): \($0.message) (\($0.objects.joined(separator: ", "))); fix: \($0.fix)" }
            }
            return refusals
        }
        guard try await appliedPosition() != nil else {
            return refusals + ["task \(options.task) has no applied position on the target: it has not streamed changes yet (is it a CDC task, and running?)"]
        }
        let started = Date()
        let marker = try await blocking { [source, options, id = session.record.id] in
            try source.writeMarker(StreamMarker(.sync, task: options.task, cutover: id), task: options.task)
        }
        if try await waitUntilApplied(marker, until: started.addingTimeInterval(options.maxLag)) {
            session.record.lagSeconds = Date().timeIntervalSince(started)
        } else {
            refusals.append(String(format: "a marker written %.0f s ago has not reached the target (--max-lag %.0f s): task %@ is behind or not running", options.maxLag, options.maxLag, options.task))
        }
        return refusals
    }

    private func writeFrozen(_ marker: StreamMarker, _ session: CutoverSession) async throws -> String {
        guard let freeze = session.freeze else { throw FerryError(.database, "the source's writes are not frozen") }
        return try await blocking { try freeze.write(marker) }
    }

    /// Polls the target's stored position until it covers `marker` or `deadline` passes.
    /// Polls the target's applied position over one connection until it covers `marker` or the deadline passes.
    private func waitUntilApplied(_ marker: String, until deadline: Date) async throws -> Bool {
        let applier = try await blocking { [target, options] in try target.openApplier(controlSchema: options.controlSchema) }
        defer { applier.close() }
        while true {
            if let applied = try await blocking({ [options] in try applier.appliedPosition(task: options.task) }),
               source.position(applied, covers: marker) { return true }
            if Date() >= deadline { return false }
            try await Task.sleep(for: .seconds(Self.pollSeconds))
        }
    }

    private func appliedPosition() async throws -> String? {
        try await blocking { [target, options] in
            let applier = try target.openApplier(controlSchema: options.controlSchema)
            defer { applier.close() }
            return try applier.appliedPosition(task: options.task)
        }
    }

    /// Compares every migrated table; nothing moves on either side while the source is frozen and the
    /// target caught up, so a difference is real. Returns one line per table that differs.
    private func verify(_ session: CutoverSession) async throws -> [String] {
        var validation = ValidationOptions()
        validation.recheckRounds = 0
        let runner = ValidationRunner(source: source, target: targetAsSource, writer: target, mappings: load.mappings,
                                      options: validation, logger: logger)
        let results = try await runner.run(only: Set(session.plans.map(\.source.id)))
        session.record.verifiedTables = results.count
        return results.filter { !$0.matches }.map { result in
            result.error.map { "\(result.source): \($0)" }
                ?? "\(result.source): \(result.differenceCount) rows differ (source \(result.sourceRows), target \(result.targetRows))"
        }
    }

    /// Creates the reverse task's capture on the target, which is quiet now (the source is frozen and
    /// its changes applied): the reverse stream starts exactly where the target stands. A capture left by
    /// an earlier cutover is replaced.
    private func prepareReverse(_ session: CutoverSession) async throws -> String {
        let targets = session.plans.map { target.normalize($0.written.target) }
        return try await blocking { [targetAsSource, options] in
            let schemas = try targetAsSource.discover(.exactly(targets))
            let capture = try targetAsSource.openCapture(task: options.reverseTask, schemas: schemas)
            if try capture.exists() { try capture.drop() }
            return try capture.create(tables: schemas.map(\.id)).position
        }
    }

    /// Fences the source's tables, committed with the release.
    private func fence(_ session: CutoverSession) async throws {
        guard let freeze = session.freeze else { throw FerryError(.database, "the source's writes are not frozen") }
        let note = "moved to another database by Ferry cutover \(session.record.id) of task \(options.task); write to the new database (a rollback moves it back)"
        try await blocking { try freeze.fence(note: note) }
    }

    /// Lifts the fence an earlier cutover put on the target's tables, once the source is fenced: after a
    /// rollback the old database takes writes again. Past the point of no return, a failure is a warning.
    private func unfenceTarget(_ session: CutoverSession) async {
        let targets = session.plans.map { target.normalize($0.written.target) }
        do {
            try await blocking { [target] in try target.removeWriteFence(targets) }
        } catch {
            session.record.warnings.append("the target's tables still refuse writes (\(error)): drop their ferry_write_fence triggers")
        }
    }

    /// Ends the freeze: commits what it wrote, or rolls it back for an undo.
    private func release(_ session: CutoverSession, abandoning: Bool = false) async throws {
        guard let freeze = session.freeze else { return }
        defer {
            if let started = session.freezeStarted { session.record.writePauseSeconds = Date().timeIntervalSince(started) }
        }
        try await blocking { try abandoning ? freeze.abandon() : freeze.release() }
    }

    /// Puts back what the plan names; what cannot be put back is recorded as a warning.
    private func undo(_ plan: CutoverUndo, _ session: CutoverSession) async {
        if plan.releaseFreeze {
            do { try await release(session, abandoning: true) } catch {
                session.record.warnings.append("the freeze's release failed (\(error)); the source ends it by itself within a second of the timeout")
            }
        }
        if plan.dropReverse {
            do {
                try await blocking { [targetAsSource, options] in
                    try targetAsSource.openCapture(task: options.reverseTask, schemas: []).drop()
                }
            } catch {
                session.record.warnings.append("the reverse capture on the target could not be dropped: \(error)")
            }
        }
        if plan.resumeForward {
            do { try await hooks.resumeForward() } catch {
                session.record.warnings.append("task \(options.task) could not be started again: \(error); start it yourself, it resumes from the target's position")
            }
        }
    }

    /// After a completed cutover the forward capture only holds log on the old source: once the forward
    /// run has applied the stop marker (and so ended), the capture is dropped.
    private func cleanUp(_ session: CutoverSession) async {
        do {
            if let stop = session.record.stopPosition, try await !waitUntilApplied(stop, until: Date().addingTimeInterval(30)) {
                session.record.warnings.append("task \(options.task) has not applied the stop marker within 30 s; its capture on the source is left in place")
                return
            }
            let schemas = session.plans.map(\.source)
            try await dropRetrying { [source, options] in try source.openCapture(task: options.task, schemas: schemas).drop() }
        } catch {
            session.record.warnings.append("the forward capture on the source could not be dropped: \(error)")
        }
    }

    /// Retries for a few seconds: the forward run lets go of its capture a moment after its last batch.
    private func dropRetrying(_ drop: @escaping @Sendable () throws -> Void) async throws {
        var attempt = 0
        while true {
            do { return try await blocking(drop) } catch {
                attempt += 1
                if attempt >= 50 { throw error }
                try await Task.sleep(for: .seconds(0.1))
            }
        }
    }

    /// The result of `work`, or nil when `deadline` passes first (`work` is then cancelled and not awaited).
    static func finish<T: Sendable>(by deadline: Date, _ work: @escaping @Sendable () async throws -> T) async throws -> T? {
        let outcome = Outcome<T>()
        let task = Task {
            do { outcome.set(.success(try await work())) } catch { outcome.set(.failure(error)) }
        }
        while true {
            if let result = outcome.result { return try result.get() }
            if Date() >= deadline {
                task.cancel()
                return nil
            }
            try await Task.sleep(for: .seconds(pollSeconds))
        }
    }

    private func blocking<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await BlockingWork.run("ferry-cutover", work)
    }

    /// A short random name for a cutover.
    static func newID() -> String {
        String(UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(12))
    }
}

/// What one cutover holds between its actions: the record, the plans and the live freeze.
final class CutoverSession: @unchecked Sendable {
    var record: CutoverRecord
    let plans: [TablePlan]
    var freeze: (any WriteFreeze)?
    var freezeStarted: Date?

    init(record: CutoverRecord, plans: [TablePlan]) {
        self.record = record
        self.plans = plans
    }

    func deadline(_ timeout: Double) -> Date { (freezeStarted ?? Date()).addingTimeInterval(timeout) }

    func pastDeadline(_ timeout: Double) -> Bool { Date() >= deadline(timeout) }
}

/// The result of work that another task finishes.
private final class Outcome<T: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Result<T, Error>?

    var result: Result<T, Error>? { lock.withLock { value } }

    func set(_ result: Result<T, Error>) { lock.withLock { value = result } }
}
