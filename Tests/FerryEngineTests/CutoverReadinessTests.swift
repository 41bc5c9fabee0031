import FerryCore
@testable import FerryEngine
import Foundation
import Testing

@Suite struct CutoverReadinessTests {
    func streaming(lag: Double?, unavailable: String? = nil) -> ReplicationStatus.Snapshot {
        var status = ReplicationStatus.Snapshot(phase: .changeCapture, position: "0/1", transactionsApplied: 0, changesApplied: 0,
                                                incomingChanges: 0, latencySource: 0, latencyTarget: 0, changesPerSecond: 0, counts: [:],
                                                retainedBytes: nil, retainedWarning: nil, ddls: [:], suspended: [:], stopReason: nil)
        status.markerLag = lag
        status.markersUnavailable = unavailable
        return status
    }

    @Test func aStreamWhoseMarkersArriveQuicklyIsReady() {
        let verdict = CutoverReadiness.evaluate(streaming(lag: 0.4))
        #expect(verdict.ready && verdict.reasons.isEmpty)
        #expect(verdict.summary == "ready (lag 0.4 s)")
    }

    @Test func lagAboveTheLimitIsNotReady() {
        #expect(CutoverReadiness.evaluate(streaming(lag: 45)).reasons == ["the lag is 45.0 s, above the 30 s a cutover allows (--max-lag)"])
        #expect(CutoverReadiness.evaluate(streaming(lag: 45), maxLag: 60).ready)
    }

    @Test func anUnmeasuredLagIsNotReady() {
        #expect(CutoverReadiness.evaluate(streaming(lag: nil)).reasons == ["no marker has made the round trip through the stream yet"])
    }

    @Test func withoutMarkersTheStreamsLatencyStandsIn() {
        var status = streaming(lag: nil, unavailable: "no markers")
        #expect(CutoverReadiness.evaluate(status).ready)
        #expect(CutoverReadiness.evaluate(status).notes == ["the lag is the stream's latency (no markers)"])
        status.latencyTarget = 45
        #expect(CutoverReadiness.evaluate(status).reasons == ["the stream's latency is 45.0 s, above the 30 s a cutover allows (--max-lag)"])
        #expect(CutoverReadiness.evaluate(status).lagSeconds == 45)
    }

    @Test func aLoadingTaskOrASuspendedTableIsNotReady() {
        var loading = streaming(lag: nil)
        loading.phase = .fullLoad
        #expect(CutoverReadiness.evaluate(loading).reasons == ["the task is in full load: a cutover needs change data capture running"])
        var suspended = streaming(lag: 0.1)
        suspended.suspended = [TableID(schema: "app", name: "orders"): "a column's type changed"]
        #expect(CutoverReadiness.evaluate(suspended).reasons == ["app.orders is suspended (a column's type changed): reload it first"])
    }

    @Test func aBacklogIsNotedWithItsCatchUpTime() {
        var busy = streaming(lag: 2)
        busy.incomingChanges = 5000
        busy.changesPerSecond = 1000
        #expect(CutoverReadiness.evaluate(busy).notes == ["5000 changes read and not yet applied, about 5 s to apply"])
    }

    @Test func theStatusTimesEachMarkersRoundTrip() throws {
        let status = ReplicationStatus()
        status.heartbeat("heartbeat-1", writtenAt: Date().addingTimeInterval(-2))
        var batch = ChangeBatch(plans: [:])
        try batch.add(ChangeTransaction(position: "0/2", commitTime: Date(), changes: [],
                                        marker: StreamMarker(.sync, task: "t", cutover: "heartbeat-1")))
        status.applied(batch, seconds: 0.01)
        let lag = try #require(status.snapshot().markerLag)
        #expect(lag >= 2 && lag < 3)
        status.heartbeat("heartbeat-2", writtenAt: Date().addingTimeInterval(-10))
        #expect(try #require(status.snapshot().markerLag) >= 10, "a marker still travelling counts")
    }
}
