@testable import FerryAPI
import FerryCore
import Testing

@Suite("Assessment run outcome")
struct AssessmentRunOutcomeTests {
    static let selected = ["all-check-source-selection-rules", "postgres-check-wallevel", "ferry-sqlite-journal-mode"]

    static func finding(_ name: String, _ status: AssessmentStatus) -> AssessmentFinding {
        AssessmentFinding(name, status, phase: .cdc, message: "")
    }

    @Test("before the run ends every check is pending and the run has no final status")
    func pending() {
        let outcome = AssessmentRunOutcome(selected: Self.selected, findings: nil)
        #expect(outcome.individual.map(\.status) == ["pending", "pending", "pending"])
        #expect(outcome.status == nil && outcome.completed == 0)
    }

    @Test("a failed or errored check fails the run; warnings alone give warning; a check with no finding is skipped")
    func statuses() {
        let passed = AssessmentRunOutcome(selected: Self.selected, findings: [Self.finding(Self.selected[0], .passed), Self.finding(Self.selected[1], .passed)])
        #expect(passed.status == "passed")
        #expect(passed.individual.map(\.status) == ["passed", "passed", "skipped"])
        #expect(passed.statistic == ReplicationTaskAssessmentRunResultStatistic(Passed: 2, Failed: 0, Error: 0, Warning: 0, Cancelled: 0, Skipped: 1))
        #expect(passed.completed == 3)

        let warned = AssessmentRunOutcome(selected: Self.selected, findings: [Self.finding(Self.selected[1], .warning)])
        #expect(warned.status == "warning")
        let errored = AssessmentRunOutcome(selected: Self.selected, findings: [Self.finding(Self.selected[2], .error), Self.finding(Self.selected[1], .warning)])
        #expect(errored.status == "failed" && errored.statistic.Error == 1)
        let failed = AssessmentRunOutcome(selected: Self.selected, findings: [Self.finding(Self.selected[0], .failed)])
        #expect(failed.status == "failed" && failed.statistic.Failed == 1)
    }

    @Test("findings of checks not selected are left out; a cancelled run fails with every check cancelled")
    func selectionAndCancel() {
        let outcome = AssessmentRunOutcome(selected: [Self.selected[0]], findings: [Self.finding(Self.selected[1], .failed), Self.finding(Self.selected[0], .passed)])
        #expect(outcome.status == "passed" && outcome.individual.count == 1)
        let cancelled = AssessmentRunOutcome(selected: Self.selected, findings: [Self.finding(Self.selected[0], .passed)], cancelled: true)
        #expect(cancelled.status == "failed" && cancelled.statistic.Cancelled == 3)
    }
}
