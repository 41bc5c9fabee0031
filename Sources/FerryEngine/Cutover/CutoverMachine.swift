/// The steps of a cutover, in the order they run. Before ``markingStop`` everything can be undone and
/// writes go back to the source; the stop marker is the point of no return.
public enum CutoverStep: String, Codable, Sendable, CaseIterable {
    /// Guardrails: lag, apply errors, whether the reverse direction can capture.
    case checking
    /// Taking the source's write locks, bounded by the timeout.
    case freezing
    /// A sync marker written under the freeze; waiting until the target has applied through it.
    case catchingUp
    /// Comparing the frozen source with the target.
    case verifying
    /// Moving the target's sequences, identities and AUTO_INCREMENTs past the source's.
    case syncingCounters
    /// Creating the reverse capture on the quiet target, so rollback starts where the target stands now.
    case preparingReverse
    /// Writing the stop marker that ends the forward run exactly where the freeze began.
    case markingStop
    /// Fencing the source: from the release on, every write but the reverse stream's is refused.
    case fencing
    /// Letting writes go on again, and lifting an earlier cutover's fence from the target.
    case releasing
    /// Starting the reverse replication from the position prepared under the freeze.
    case startingReverse
    /// Done: the target has every change; the application can move.
    case completed
    /// Something failed before the point of no return: locks released, reverse capture dropped, forward
    /// replication resumed.
    case undoing
    /// Undone; the source stays the database the application writes to.
    case aborted

    /// Whether the source's writes are held off while this step runs.
    public var isFrozen: Bool {
        switch self {
        case .catchingUp, .verifying, .syncingCounters, .preparingReverse, .markingStop, .fencing, .releasing: return true
        default: return false
        }
    }
}

/// What happened, as the runner reports it to the machine.
public enum CutoverEvent: Sendable, Equatable {
    case begin
    /// The guardrails' refusals; empty when every guardrail passed.
    case checked(refusals: [String])
    case frozen
    case caughtUp
    /// The differences found; empty when the target equals the source.
    case verified(differences: [String])
    case countersSynced
    /// The reverse capture exists on the target and starts after `position`.
    case reversePrepared(position: String)
    case stopMarked
    case fenced
    case released
    case reverseStarted
    /// The undo finished.
    case undone
    /// The current step's action failed.
    case failed(String)
    /// The write pause reached the timeout.
    case timedOut
    /// The machine was restored from the journal after Ferry stopped in the middle of a cutover: every
    /// session it held, and so the freeze, is gone.
    case resumedAfterCrash
}

/// What the runner must do next.
public enum CutoverAction: Sendable, Equatable {
    case checkGuardrails
    case freeze
    case waitForCatchUp
    case verify
    case syncCounters
    case prepareReverse
    case markStop
    case fence
    case release
    case startReverse(position: String)
    /// Put everything back the way it was before the cutover.
    case undo(CutoverUndo)
    /// The cutover is over, completed or aborted; the journal keeps the outcome.
    case finish
}

/// What an undo must put back: only what the cutover changed before it failed.
public struct CutoverUndo: Sendable, Equatable, Codable {
    /// Release the source's write locks, rolling back what the freeze wrote (gone anyway when Ferry crashed).
    public var releaseFreeze: Bool
    /// Drop the reverse capture prepared on the target.
    public var dropReverse: Bool
    /// Start the forward replication again: the stop marker may have ended it.
    public var resumeForward: Bool

    public init(releaseFreeze: Bool, dropReverse: Bool, resumeForward: Bool) {
        self.releaseFreeze = releaseFreeze
        self.dropReverse = dropReverse
        self.resumeForward = resumeForward
    }
}

/// The cutover as a pure state machine: events in, actions out, no IO and no clock. The runner journals
/// the machine (it is `Codable`) before it performs each action, so that a Ferry restarted in the middle
/// of a cutover resumes from the journal with ``CutoverEvent/resumedAfterCrash`` and undoes it.
public struct CutoverMachine: Sendable, Equatable, Codable {
    public private(set) var step: CutoverStep?
    /// Whether reverse replication is prepared and started (`--no-reverse` turns it off).
    public let reverse: Bool
    /// Whether the run stops after the guardrails, changing nothing (`--dry-run`).
    public let dryRun: Bool
    /// Why the cutover was refused or undone; empty while it goes well.
    public private(set) var reasons: [String] = []
    /// Where the reverse stream starts, once prepared.
    public private(set) var reversePosition: String?
    /// Whether the stop marker may have been written (it is written in ``CutoverStep/markingStop``).
    public private(set) var stopMarked = false
    /// The step that was running when the undo began.
    public private(set) var failedStep: CutoverStep?
    /// Whether the reverse stream is running (a failed start after the release leaves it off).
    public private(set) var reverseRunning = false

    public init(reverse: Bool, dryRun: Bool = false) {
        self.reverse = reverse
        self.dryRun = dryRun
    }

    /// Whether the cutover is over.
    public var isFinished: Bool { step == .completed || step == .aborted }

    /// The steps a cutover with these options runs, for a dry run's listing.
    public var plannedSteps: [CutoverStep] {
        CutoverStep.allCases.filter { step in
            switch step {
            case .preparingReverse, .startingReverse: return reverse
            case .undoing, .aborted: return false
            default: return true
            }
        }
    }

    /// Takes an event and returns the actions to perform, in order.
    public mutating func handle(_ event: CutoverEvent) -> [CutoverAction] {
        switch (step, event) {
        case (nil, .begin):
            step = .checking
            return [.checkGuardrails]
        case let (.checking?, .checked(refusals)) where !refusals.isEmpty:
            reasons = refusals
            return abort()
        case (.checking?, .checked):
            if dryRun {
                step = .completed
                return [.finish]
            }
            return advance(to: .freezing, .freeze)
        case (.freezing?, .frozen):
            return advance(to: .catchingUp, .waitForCatchUp)
        case (.catchingUp?, .caughtUp):
            return advance(to: .verifying, .verify)
        case let (.verifying?, .verified(differences)) where !differences.isEmpty:
            return undo(because: differences)
        case (.verifying?, .verified):
            return advance(to: .syncingCounters, .syncCounters)
        case (.syncingCounters?, .countersSynced):
            return reverse ? advance(to: .preparingReverse, .prepareReverse) : markStop()
        case let (.preparingReverse?, .reversePrepared(position)):
            reversePosition = position
            return markStop()
        case (.markingStop?, .stopMarked):
            return advance(to: .fencing, .fence)
        case (.fencing?, .fenced):
            return advance(to: .releasing, .release)
        case (.releasing?, .released):
            if let reversePosition, reverse { return advance(to: .startingReverse, .startReverse(position: reversePosition)) }
            return complete()
        case (.startingReverse?, .reverseStarted):
            reverseRunning = true
            return complete()
        case (.undoing?, .undone):
            step = .aborted
            return [.finish]
        case let (current?, .failed(reason)) where current != .undoing && current != .completed && current != .aborted:
            return undo(because: ["\(current.rawValue): \(reason)"])
        case (let current?, .timedOut) where current == .freezing || current.isFrozen:
            return undo(because: ["\(current.rawValue): the write pause reached the timeout"])
        case (let current?, .resumedAfterCrash) where current != .completed && current != .aborted:
            if current == .undoing { return [.undo(undoPlan(frozenLost: true))] }
            return undo(because: ["\(current.rawValue): Ferry stopped in the middle of the cutover"], frozenLost: true)
        default:
            // An event that does not fit the step (a late timeout, a second report): nothing to do.
            return []
        }
    }

    private mutating func advance(to next: CutoverStep, _ action: CutoverAction) -> [CutoverAction] {
        step = next
        return [action]
    }

    private mutating func markStop() -> [CutoverAction] {
        stopMarked = true
        return advance(to: .markingStop, .markStop)
    }

    private mutating func complete() -> [CutoverAction] {
        step = .completed
        return [.finish]
    }

    private mutating func abort() -> [CutoverAction] {
        step = .aborted
        return [.finish]
    }

    private mutating func undo(because reasons: [String], frozenLost: Bool = false) -> [CutoverAction] {
        self.reasons += reasons
        failedStep = step
        let plan = undoPlan(frozenLost: frozenLost)
        step = .undoing
        return [.undo(plan)]
    }

    /// Undoes what the failed step and those before it did.
    private func undoPlan(frozenLost: Bool) -> CutoverUndo {
        let failed = failedStep ?? step
        return CutoverUndo(releaseFreeze: !frozenLost && (failed == .freezing || failed?.isFrozen == true),
                           dropReverse: reversePosition != nil || failed == .preparingReverse,
                           resumeForward: stopMarked)
    }
}
