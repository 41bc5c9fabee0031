import FerryCatalog
import FerryTelemetry
import Foundation
import Logging
import ServiceLifecycle

/// Stores the finished CloudWatch datapoints in the catalog every 10 seconds and keeps the history within
/// bounds: 10-second points for 3 hours, minute points for 15 days, at most `maximumPoints` in all.
struct MetricHistoryWriter: Service {
    static let interval: Duration = .seconds(10)
    static let maximumPoints = 5_000_000

    let telemetry: Telemetry
    let catalog: Catalog
    let logger: Logger

    func run() async throws {
        // A shutdown ends the wait at once, so the node's tasks are handed over without waiting for it.
        await cancelWhenGracefulShutdown { await writeEveryInterval() }
        save()
    }

    private func writeEveryInterval() async {
        var lastPrune = Date.distantPast
        while !Task.isCancelled {
            try? await Task.sleep(for: Self.interval)
            guard !Task.isCancelled else { return }
            save()
            if Date().timeIntervalSince(lastPrune) > 600 {
                lastPrune = Date()
                do {
                    try catalog.pruneMetricPoints(now: Date(), retention: [10: MetricStatistics.fineRetention, 60: MetricStatistics.minuteRetention],
                                                  maximumPoints: Self.maximumPoints)
                } catch {
                    logger.error("cannot prune the metric history: \(error)")
                }
            }
        }
    }

    func save() {
        do { try catalog.saveMetricPoints(telemetry.finishedDatapoints()) } catch {
            logger.error("cannot store metric datapoints: \(error)")
        }
    }
}
