@testable import FerryEngine
import Foundation
import Testing

@Suite struct CutoverDeadlineTests {
    @Test func workThatOutlastsTheDeadlineIsLeftBehind() async throws {
        let started = Date()
        let result = try await CutoverRunner.finish(by: started.addingTimeInterval(0.2)) {
            try await Task.sleep(for: .seconds(30))
            return 1
        }
        #expect(result == nil)
        // Well short of the work's 30 s, with room for a busy machine to be late waking the deadline.
        #expect(Date().timeIntervalSince(started) < 10)
    }

    @Test func workThatFinishesInTimeGivesItsResultOrItsError() async throws {
        #expect(try await CutoverRunner.finish(by: Date().addingTimeInterval(5)) { 42 } == 42)
        await #expect(throws: CancellationError.self) {
            _ = try await CutoverRunner.finish(by: Date().addingTimeInterval(5)) { () async throws -> Int in throw CancellationError() }
        }
    }
}
