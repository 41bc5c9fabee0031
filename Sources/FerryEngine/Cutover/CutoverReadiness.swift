import FerryCore
import Foundation

/// Whether a running replication could be cut over now, and why not: computed from its status alone,
/// so `ferry migrate`'s live line, the API and `ferry cutover` say the same. Pure.
public struct CutoverReadiness: Sendable, Equatable {
    public var ready: Bool
    /// What stands in the way; empty when ready.
    public var reasons: [String]
    /// What to know besides (a backlog and how long it takes to apply).
    public var notes: [String]
    /// Ferry's own measure of the lag: a marker's round trip through the stream.
    public var lagSeconds: Double?

    public static func evaluate(_ status: ReplicationStatus.Snapshot, maxLag: Double = CutoverOptions.defaultMaxLag) -> CutoverReadiness {
        var reasons: [String] = [], notes: [String] = []
        if status.phase != .changeCapture {
            reasons.append("the task is in \(status.phase.rawValue): a cutover needs change data capture running")
        }
        switch (status.markerLag, status.markersUnavailable) {
        case let (lag?, _) where lag > maxLag:
            reasons.append(String(format: "the lag is %.1f s, above the %.0f s a cutover allows (--max-lag)", lag, maxLag))
        case (nil, let unavailable?):
            // Without markers the stream's own latency stands in; the cutover still proves the lag with its marker.
            notes.append("the lag is the stream's latency (\(unavailable))")
            if status.latencyTarget > maxLag {
                reasons.append(String(format: "the stream's latency is %.1f s, above the %.0f s a cutover allows (--max-lag)", status.latencyTarget, maxLag))
            }
        case (nil, nil) where status.phase == .changeCapture:
            reasons.append("no marker has made the round trip through the stream yet")
        default:
            break
        }
        reasons += suspensions(status.suspended)
        if status.incomingChanges > 0 {
            let estimate = status.changesPerSecond > 0 ? String(format: ", about %.0f s to apply", Double(status.incomingChanges) / status.changesPerSecond) : ""
            notes.append("\(status.incomingChanges) changes read and not yet applied\(estimate)")
        }
        let lag = status.markerLag ?? (status.markersUnavailable == nil ? nil : status.latencyTarget)
        return CutoverReadiness(ready: reasons.isEmpty, reasons: reasons, notes: notes, lagSeconds: lag)
    }

    /// A suspended table stops a cutover: its changes are not applied.
    public static func suspensions(_ suspended: [TableID: String]) -> [String] {
        suspended.sorted { $0.key.description < $1.key.description }.map { "\($0.key) is suspended (\($0.value)): reload it first" }
    }

    /// One line: `ready (lag 0.1 s)` or `not ready: …`.
    public var summary: String {
        if ready { return lagSeconds.map { String(format: "ready (lag %.1f s)", $0) } ?? "ready" }
        return "not ready: " + reasons.joined(separator: "; ")
    }
}
