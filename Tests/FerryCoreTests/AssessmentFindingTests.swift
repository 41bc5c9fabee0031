import FerryCore
import Testing

@Suite struct AssessmentFindingTests {
    @Test func aCheckPassesWithoutProblemsAndOtherwiseNamesThem() {
        let passed = AssessmentFinding.check(AssessmentCheck("postgres-check-wallevel", .cdc), problems: [], passed: "ok", failed: "bad", fix: "do this")
        #expect(passed.status == .passed && passed.message == "ok" && passed.objects.isEmpty && passed.fix.isEmpty)
        let failed = AssessmentFinding.check(AssessmentCheck("postgres-check-wallevel", .cdc), problems: ["wal_level = replica"], passed: "ok", failed: "bad", fix: "do this")
        #expect(failed.status == .failed && failed.objects == ["wal_level = replica"] && failed.fix == "do this")
        #expect(AssessmentFinding.check(AssessmentCheck("x", .cdc), problems: ["p"], failing: .warning, passed: "", failed: "", fix: "").status == .warning)
    }

    @Test func statusesOrderFromPassedToError() {
        #expect([AssessmentStatus.error, .passed, .failed, .warning].sorted() == [.passed, .warning, .failed, .error])
    }
}
