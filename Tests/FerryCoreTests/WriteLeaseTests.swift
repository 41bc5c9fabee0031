import FerryCore
import Foundation
import Testing

@Suite struct WriteLeaseTests {
    @Test func writesStopAtTheMomentAfterTheLastRenewalAndARenewalAllowsThemAgain() {
        let start = ContinuousClock.now
        let lease = WriteLease(writesFor: 7, renewedAt: start)
        #expect(lease.allowsWrites(at: start + .seconds(6.9)))
        #expect(!lease.allowsWrites(at: start + .seconds(7)))
        lease.renewed(at: start + .seconds(5))
        #expect(lease.allowsWrites(at: start + .seconds(11.9)))
        lease.renewed(at: start + .seconds(1))
        #expect(lease.secondsSinceRenewal(at: start + .seconds(6)) == 1, "a renewal that began earlier does not move the lease back")
    }

    @Test func aWaitEndsAtARenewalOrAtTheStop() async {
        // A renewal allows writes for a minute, so the waiting thread sees it however late it is scheduled.
        let lease = WriteLease(writesFor: 60, renewedAt: .now - .seconds(61))
        let stop = StopFlag()
        let stopped = Task.detached { lease.waitForWrites(unless: stop) }
        stop.set()
        #expect(await stopped.value == false)

        let renewedLater = Task.detached { lease.waitForWrites(unless: StopFlag()) }
        try? await Task.sleep(for: .milliseconds(200))
        lease.renewed(at: .now)
        #expect(await renewedLater.value == true)
    }
}
