import CoreMetrics
import FerryCatalog
import Foundation

/// The CloudWatch side of the figures: a swift-metrics backend beside Prometheus's that keeps, for each
/// figure with a ``CloudWatchForm``, what was recorded in each 10-second and each 1-minute window, and
/// hands the finished windows over as datapoints of namespace `AWS/DMS`. Figures without one cost nothing.
final class MetricHistory: MetricsFactory, @unchecked Sendable {
    static let namespace = "AWS/DMS"
    static let resolutions = [10, 60]

    private let published: [String: (name: String, form: CloudWatchForm)]
    private let lock = NSLock()
    /// Each task's resource id (CloudWatch's `ReplicationTaskIdentifier`), by task identifier.
    private var resourceIDs: [String: String] = [:]
    private var open: [WindowKey: Window] = [:]
    private var finished: [(SeriesKey, Window)] = []

    struct SeriesKey: Hashable {
        var metric: String
        var task: String
        var instance: String
    }

    private struct WindowKey: Hashable {
        var series: SeriesKey
        var seconds: Int
    }

    struct Window {
        var start: Date
        var seconds: Int
        var form: CloudWatchForm
        var count = 0.0
        var sum = 0.0
        var minimum = Double.infinity
        var maximum = -Double.infinity
    }

    init() {
        var published: [String: (name: String, form: CloudWatchForm)] = [:]
        for metric in FerryMetric.all where metric.labels.isEmpty {
            if let form = metric.cloudWatch, let name = metric.dmsName { published[metric.name] = (name, form) }
        }
        self.published = published
    }

    func register(task: String, resourceID: String) { lock.withLock { resourceIDs[task] = resourceID } }

    /// A deleted task: its windows not yet handed over are dropped.
    func forget(task: String) {
        lock.withLock {
            resourceIDs[task] = nil
            open = open.filter { $0.key.series.task != task }
            finished.removeAll { $0.0.task == task }
        }
    }

    /// A value recorded (a gauge) or an increase (a counter) for a series, at `now`.
    func add(_ series: SeriesKey, _ form: CloudWatchForm, _ value: Double, now: Date = Date()) {
        lock.withLock {
            for seconds in Self.resolutions {
                let key = WindowKey(series: series, seconds: seconds)
                let start = Date(timeIntervalSince1970: (now.timeIntervalSince1970 / Double(seconds)).rounded(.down) * Double(seconds))
                if let window = open[key], window.start != start {
                    finished.append((series, window))
                    open[key] = nil
                }
                var window = open[key] ?? Window(start: start, seconds: seconds, form: form)
                window.count += 1
                window.sum += value
                window.minimum = min(window.minimum, value)
                window.maximum = max(window.maximum, value)
                open[key] = window
            }
        }
    }

    /// The datapoints of every window that ended by `now`.
    func drain(now: Date = Date()) -> [StoredMetricPoint] {
        let (windows, resourceIDs): ([(SeriesKey, Window)], [String: String]) = lock.withLock {
            for (key, window) in open where window.start.addingTimeInterval(Double(window.seconds)) <= now {
                finished.append((key.series, window))
                open[key] = nil
            }
            defer { finished = [] }
            return (finished, self.resourceIDs)
        }
        return windows.compactMap { series, window in
            guard let task = resourceIDs[series.task] else { return nil }
            let dimensions = [MetricDimension(name: "ReplicationInstanceIdentifier", value: series.instance),
                              MetricDimension(name: "ReplicationTaskIdentifier", value: task)]
            let point = { (count: Double, sum: Double, minimum: Double, maximum: Double) in
                StoredMetricPoint(namespace: Self.namespace, metric: series.metric, dimensions: dimensions, unit: window.form.unit,
                                  start: window.start, seconds: window.seconds, sampleCount: count, sum: sum, minimum: minimum, maximum: maximum)
            }
            switch window.form.reading {
            case .value: return point(window.count, window.sum, window.minimum, window.maximum)
            case .perSecond:
                let rate = window.sum / Double(window.seconds)
                return point(1, rate, rate, rate)
            case .increase: return point(1, window.sum, window.sum, window.sum)
            }
        }
    }

    private func series(_ label: String, _ dimensions: [(String, String)]) -> (SeriesKey, CloudWatchForm)? {
        guard let (name, form) = published[label],
              let task = dimensions.first(where: { $0.0 == "task" })?.1,
              let instance = dimensions.first(where: { $0.0 == "replication_instance" })?.1 else { return nil }
        return (SeriesKey(metric: name, task: task, instance: instance), form)
    }

    func makeCounter(label: String, dimensions: [(String, String)]) -> any CounterHandler {
        guard let (key, form) = series(label, dimensions) else { return Ignored() }
        return Handler(history: self, key: key, form: form)
    }

    func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> any RecorderHandler {
        guard let (key, form) = series(label, dimensions) else { return Ignored() }
        return Handler(history: self, key: key, form: form)
    }

    func makeFloatingPointCounter(label: String, dimensions: [(String, String)]) -> any FloatingPointCounterHandler { Ignored() }
    func makeMeter(label: String, dimensions: [(String, String)]) -> any MeterHandler { Ignored() }
    func makeTimer(label: String, dimensions: [(String, String)]) -> any TimerHandler { Ignored() }
    func destroyCounter(_ handler: any CounterHandler) {}
    func destroyRecorder(_ handler: any RecorderHandler) {}
    func destroyFloatingPointCounter(_ handler: any FloatingPointCounterHandler) {}
    func destroyMeter(_ handler: any MeterHandler) {}
    func destroyTimer(_ handler: any TimerHandler) {}

    /// Hands what one series records to the history.
    private final class Handler: CounterHandler, RecorderHandler, @unchecked Sendable {
        let history: MetricHistory
        let key: SeriesKey
        let form: CloudWatchForm

        init(history: MetricHistory, key: SeriesKey, form: CloudWatchForm) {
            self.history = history
            self.key = key
            self.form = form
        }

        func increment(by amount: Int64) { history.add(key, form, Double(amount)) }
        func reset() {}
        func record(_ value: Int64) { history.add(key, form, Double(value)) }
        func record(_ value: Double) { history.add(key, form, value) }
    }

    /// A figure CloudWatch does not serve.
    private final class Ignored: CounterHandler, RecorderHandler, FloatingPointCounterHandler, MeterHandler, TimerHandler, @unchecked Sendable {
        func increment(by amount: Int64) {}
        func increment(by amount: Double) {}
        func reset() {}
        func record(_ value: Int64) {}
        func record(_ value: Double) {}
        func set(_ value: Int64) {}
        func set(_ value: Double) {}
        func decrement(by amount: Double) {}
        func recordNanoseconds(_ duration: Int64) {}
    }
}
