import FerryEngine
import Foundation

/// Ferry's alarm thresholds: the replication lag and the log a source keeps for a task.
public struct AlarmSettings: Sendable, Equatable {
    /// Lag (source + target latency) above this…
    public var latencySeconds: Double = 300
    /// …for this long raises the latency alarm.
    public var latencyMinutes: Double = 5
    /// WAL or binlog retained above this raises the retained-log alarm.
    public var retainedBytes: Int64 = 10 << 30

    public init() {}
}

/// One task's alarms: each raised once when its figure crosses the threshold (the lag for the set time),
/// and resolved once when it comes back. Pure: snapshots and the time in, messages out.
public struct TaskAlarms: Sendable {
    public let settings: AlarmSettings
    private var lagSince: Date?
    private var lagRaised = false
    private var retainedRaised = false

    public init(_ settings: AlarmSettings) {
        self.settings = settings
    }

    /// What changed: messages for events of category `alarm`.
    public mutating func evaluate(_ status: ReplicationStatus.Snapshot, now: Date) -> [String] {
        var changes: [String] = []
        let lag = status.latencySource + status.latencyTarget
        if lag > settings.latencySeconds {
            let since = lagSince ?? now
            lagSince = since
            if !lagRaised, now.timeIntervalSince(since) >= settings.latencyMinutes * 60 {
                lagRaised = true
                changes.append(String(format: "Alarm: replication lag %.0f s has been above %.0f s for %.0f minutes.", lag,
                                      settings.latencySeconds, settings.latencyMinutes))
            }
        } else {
            lagSince = nil
            if lagRaised {
                lagRaised = false
                changes.append(String(format: "Alarm resolved: replication lag is %.0f s, under %.0f s.", lag, settings.latencySeconds))
            }
        }
        if let retained = status.retainedBytes {
            if retained > settings.retainedBytes, !retainedRaised {
                retainedRaised = true
                changes.append("Alarm: the source keeps \(retained) bytes of log for the task, above \(settings.retainedBytes).")
            } else if retained <= settings.retainedBytes, retainedRaised {
                retainedRaised = false
                changes.append("Alarm resolved: the source keeps \(retained) bytes of log for the task, within \(settings.retainedBytes).")
            }
        }
        return changes
    }
}
