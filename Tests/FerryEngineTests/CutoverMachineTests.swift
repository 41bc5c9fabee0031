import Foundation
@testable import FerryEngine
import Testing

/// Drives the machine with the events a runner reports, answering every action with its success.
private func run(_ machine: inout CutoverMachine, failing failure: CutoverStep? = nil, with event: CutoverEvent = .failed("boom"),
                 reversePosition: String = "0/ABC") -> [CutoverAction] {
    var performed: [CutoverAction] = []
    var pending = machine.handle(.begin)
    while let action = pending.first {
        pending.removeFirst()
        performed.append(action)
        if let failure, machine.step == failure, !machine.isFinished {
            // An event the step ignores lets the action succeed.
            let next = machine.handle(event)
            if !next.isEmpty {
                pending += next
                continue
            }
        }
        switch action {
        case .checkGuardrails: pending += machine.handle(.checked(refusals: []))
        case .freeze: pending += machine.handle(.frozen)
        case .waitForCatchUp: pending += machine.handle(.caughtUp)
        case .verify: pending += machine.handle(.verified(differences: []))
        case .syncCounters: pending += machine.handle(.countersSynced)
        case .prepareReverse: pending += machine.handle(.reversePrepared(position: reversePosition))
        case .markStop: pending += machine.handle(.stopMarked)
        case .fence: pending += machine.handle(.fenced)
        case .release: pending += machine.handle(.released)
        case .startReverse: pending += machine.handle(.reverseStarted)
        case .undo: pending += machine.handle(.undone)
        case .finish: break
        }
    }
    return performed
}

@Suite struct CutoverMachineTests {
    @Test func aCutoverWithReverseRunsEveryStepInOrder() {
        var machine = CutoverMachine(reverse: true)
        let actions = run(&machine)
        #expect(actions == [.checkGuardrails, .freeze, .waitForCatchUp, .verify, .syncCounters, .prepareReverse, .markStop, .fence, .release,
                            .startReverse(position: "0/ABC"), .finish])
        #expect(machine.step == .completed)
        #expect(machine.reverseRunning)
        #expect(machine.reasons.isEmpty)
    }

    @Test func withoutReverseNoReverseIsPreparedOrStarted() {
        var machine = CutoverMachine(reverse: false)
        #expect(run(&machine) == [.checkGuardrails, .freeze, .waitForCatchUp, .verify, .syncCounters, .markStop, .fence, .release, .finish])
        #expect(machine.step == .completed)
        #expect(!machine.reverseRunning)
        #expect(!machine.plannedSteps.contains(.preparingReverse))
    }

    @Test func aDryRunStopsAfterTheGuardrails() {
        var machine = CutoverMachine(reverse: true, dryRun: true)
        #expect(run(&machine) == [.checkGuardrails, .finish])
        #expect(machine.step == .completed)
        #expect(machine.plannedSteps == [.checking, .freezing, .catchingUp, .verifying, .syncingCounters, .preparingReverse, .markingStop,
                                         .fencing, .releasing, .startingReverse, .completed])
    }

    @Test func aRefusedGuardrailChangesNothing() {
        var machine = CutoverMachine(reverse: true)
        #expect(machine.handle(.begin) == [.checkGuardrails])
        #expect(machine.handle(.checked(refusals: ["lag 45 s is above --max-lag 30 s"])) == [.finish])
        #expect(machine.step == .aborted)
        #expect(machine.reasons == ["lag 45 s is above --max-lag 30 s"])
    }

    /// A failure at each step undoes exactly what the steps before it did.
    @Test(arguments: [
        (CutoverStep.freezing, CutoverUndo(releaseFreeze: true, dropReverse: false, resumeForward: false)),
        (.catchingUp, CutoverUndo(releaseFreeze: true, dropReverse: false, resumeForward: false)),
        (.verifying, CutoverUndo(releaseFreeze: true, dropReverse: false, resumeForward: false)),
        (.syncingCounters, CutoverUndo(releaseFreeze: true, dropReverse: false, resumeForward: false)),
        (.preparingReverse, CutoverUndo(releaseFreeze: true, dropReverse: true, resumeForward: false)),
        (.markingStop, CutoverUndo(releaseFreeze: true, dropReverse: true, resumeForward: true)),
        (.fencing, CutoverUndo(releaseFreeze: true, dropReverse: true, resumeForward: true)),
        (.releasing, CutoverUndo(releaseFreeze: true, dropReverse: true, resumeForward: true)),
        (.startingReverse, CutoverUndo(releaseFreeze: false, dropReverse: true, resumeForward: true)),
    ])
    func aFailureUndoesWhatWasDone(step: CutoverStep, undo: CutoverUndo) {
        var machine = CutoverMachine(reverse: true)
        let actions = run(&machine, failing: step)
        #expect(actions.contains(.undo(undo)))
        #expect(actions.last == .finish)
        #expect(machine.step == .aborted)
        #expect(machine.failedStep == step)
        #expect(machine.reasons == ["\(step.rawValue): boom"])
    }

    @Test func differencesFoundUnderTheFreezeUndoTheCutover() {
        var machine = CutoverMachine(reverse: false)
        _ = machine.handle(.begin)
        _ = machine.handle(.checked(refusals: []))
        _ = machine.handle(.frozen)
        _ = machine.handle(.caughtUp)
        #expect(machine.handle(.verified(differences: ["public.orders: 2 rows differ"])) ==
            [.undo(CutoverUndo(releaseFreeze: true, dropReverse: false, resumeForward: false))])
        #expect(machine.reasons == ["public.orders: 2 rows differ"])
    }

    /// The timeout undoes the cutover while writes are frozen, and not once they are released.
    @Test(arguments: CutoverStep.allCases)
    func theTimeoutUndoesOnlyAFrozenCutover(step: CutoverStep) {
        var machine = CutoverMachine(reverse: true)
        let actions = run(&machine, failing: step, with: .timedOut)
        let undone = actions.contains { if case .undo = $0 { return true } else { return false } }
        #expect(undone == (step == .freezing || step.isFrozen))
        #expect(machine.step == (undone ? .aborted : .completed))
    }

    /// After a crash at any step the sessions are gone (and the freeze with them): what is left is undone.
    @Test(arguments: [CutoverStep.checking, .freezing, .catchingUp, .verifying, .syncingCounters, .preparingReverse, .markingStop,
                      .fencing, .releasing, .startingReverse])
    func aCrashAtAnyStepIsUndoneOnRestart(step: CutoverStep) throws {
        var machine = CutoverMachine(reverse: true)
        _ = run(&machine, failing: step, with: .resumedAfterCrash)
        #expect(machine.step == .aborted)
        #expect(machine.failedStep == step)
        #expect(machine.reasons.first?.contains("Ferry stopped in the middle of the cutover") == true)
    }

    @Test func aCrashDuringTheUndoUndoesAgainWithoutTheFreeze() {
        var machine = CutoverMachine(reverse: true)
        _ = machine.handle(.begin)
        _ = machine.handle(.checked(refusals: []))
        _ = machine.handle(.frozen)
        _ = machine.handle(.caughtUp)
        _ = machine.handle(.verified(differences: []))
        _ = machine.handle(.countersSynced)
        _ = machine.handle(.reversePrepared(position: "0/1"))
        _ = machine.handle(.failed("lost the connection"))
        #expect(machine.step == .undoing)
        #expect(machine.handle(.resumedAfterCrash) == [.undo(CutoverUndo(releaseFreeze: false, dropReverse: true, resumeForward: true))])
        #expect(machine.handle(.undone) == [.finish])
    }

    @Test func aFinishedCutoverIgnoresLateEvents() {
        var machine = CutoverMachine(reverse: false)
        _ = run(&machine)
        for event in [CutoverEvent.timedOut, .failed("late"), .resumedAfterCrash, .released, .begin] {
            #expect(machine.handle(event).isEmpty)
        }
        #expect(machine.step == .completed)
    }

    @Test func eventsThatDoNotFitTheStepAreIgnored() {
        var machine = CutoverMachine(reverse: true)
        _ = machine.handle(.begin)
        #expect(machine.handle(.caughtUp).isEmpty)
        #expect(machine.handle(.stopMarked).isEmpty)
        #expect(machine.step == .checking)
    }

    @Test func theMachineSurvivesTheJournal() throws {
        var machine = CutoverMachine(reverse: true)
        _ = machine.handle(.begin)
        _ = machine.handle(.checked(refusals: []))
        let data = try JSONEncoder().encode(machine)
        let restored = try JSONDecoder().decode(CutoverMachine.self, from: data)
        #expect(restored == machine)
    }
}
