import FerryCatalog
import Foundation

/// CloudWatch's rules for a statistics request, and the datapoints it computes from stored points. Pure.
enum MetricStatistics {
    /// CloudWatch's limit of datapoints per GetMetricStatistics call.
    static let maximumDatapoints = 1440
    /// How long 10-second points are kept: periods under a minute work within it.
    static let fineRetention: TimeInterval = 3 * 3600
    /// How long minute points are kept.
    static let minuteRetention: TimeInterval = 15 * 86_400
    static let statistics = ["SampleCount", "Average", "Sum", "Minimum", "Maximum"]

    /// What to read for a request: the stored resolution and the start rounded down as CloudWatch rounds it.
    struct Plan: Equatable {
        var resolution: Int
        var start: Date
        var end: Date
        var period: Int
    }

    /// Checks the time range and period: a period under a minute needs a multiple of 10 s and a start
    /// within the last 3 hours (Ferry's fine points), a longer one a multiple of 60.
    static func plan(start: Date?, end: Date?, period: Int?, now: Date, checkCount: Bool = true) throws -> Plan {
        guard let start else { throw CloudWatchError.missing("StartTime") }
        guard let end else { throw CloudWatchError.missing("EndTime") }
        guard let period else { throw CloudWatchError.missing("Period") }
        guard start < end else { throw CloudWatchError.invalidValue("The parameter StartTime must be less than the parameter EndTime.") }
        guard period >= 1 else { throw CloudWatchError.invalidValue("The parameter Period must be greater than 0.") }
        let resolution: Int
        if period < 60 {
            guard period % 10 == 0 else {
                throw CloudWatchError.invalidValue("The parameter Period must be 10, 20, 30, 40, 50 or a multiple of 60; Ferry keeps 10-second points; got \(period).")
            }
            guard now.timeIntervalSince(start) <= fineRetention else {
                throw CloudWatchError.invalidValue("The parameter Period must be a multiple of 60 for data older than 3 hours; got \(period).")
            }
            resolution = 10
        } else {
            guard period % 60 == 0 else { throw CloudWatchError.invalidValue("The parameter Period must be a multiple of 60; got \(period).") }
            resolution = 60
        }
        let requested = Int((end.timeIntervalSince(start) / Double(period)).rounded(.up))
        if checkCount, requested > maximumDatapoints {
            throw CloudWatchError.combination("You have requested up to \(requested) datapoints, which exceeds the limit of \(maximumDatapoints). "
                                              + "You may reduce the datapoints requested by increasing Period, or decreasing the time range.")
        }
        let rounded = (start.timeIntervalSince1970 / Double(resolution)).rounded(.down) * Double(resolution)
        return Plan(resolution: resolution, start: Date(timeIntervalSince1970: rounded), end: end, period: period)
    }

    /// Checks the statistics asked for: 1 to 5 of CloudWatch's, or 1 to 10 percentiles (`p99`, `p99.9`), not both.
    static func check(statistics: [String]?, extended: [String]?) throws {
        let statistics = statistics ?? [], extended = extended ?? []
        guard statistics.isEmpty != extended.isEmpty else {
            throw CloudWatchError.combination("Must specify either Statistics or ExtendedStatistics, but not both.")
        }
        guard statistics.count <= 5, extended.count <= 10 else {
            throw CloudWatchError.invalidValue("At most 5 Statistics and 10 ExtendedStatistics can be requested.")
        }
        for (index, statistic) in statistics.enumerated() where !Self.statistics.contains(statistic) {
            throw CloudWatchError.invalidValue("The parameter Statistics.member.\(index + 1) must be a value in the set [ Maximum, Minimum, Sum, SampleCount, Average ]; got '\(statistic)'.")
        }
        for statistic in extended where percentile(statistic) == nil {
            throw CloudWatchError.invalidValue("The parameter ExtendedStatistics must hold percentiles such as p99 or p99.9; got '\(statistic)'.")
        }
    }

    /// `p99.9` as 99.9; nil when it is not a percentile from p0 to p100.
    static func percentile(_ text: String) -> Double? {
        guard text.hasPrefix("p"), let value = Double(text.dropFirst()), (0...100).contains(value), !text.contains("e") else { return nil }
        return value
    }

    /// One datapoint per period that holds points, in no particular order (CloudWatch does not sort them).
    static func datapoints(_ points: [StoredMetricPoint], plan: Plan, statistics: [String], extended: [String], unit: String?) -> [CloudWatchDatapoint] {
        let points = points.filter { unit == nil || $0.unit == unit }
        var buckets: [Int: [StoredMetricPoint]] = [:]
        for point in points where point.start >= plan.start && point.start < plan.end {
            buckets[Int(point.start.timeIntervalSince(plan.start)) / plan.period, default: []].append(point)
        }
        return buckets.map { index, points in
            let count = points.reduce(0) { $0 + $1.sampleCount }, sum = points.reduce(0) { $0 + $1.sum }
            var datapoint = CloudWatchDatapoint(Timestamp: plan.start.addingTimeInterval(Double(index * plan.period)), Unit: points[0].unit)
            for statistic in statistics {
                switch statistic {
                case "SampleCount": datapoint.SampleCount = count
                case "Average": datapoint.Average = count > 0 ? sum / count : 0
                case "Sum": datapoint.Sum = sum
                case "Minimum": datapoint.Minimum = points.map(\.minimum).min()
                default: datapoint.Maximum = points.map(\.maximum).max()
                }
            }
            if !extended.isEmpty {
                // Over the stored points' averages: 10-second points for the last 3 hours, minute points before.
                let values = points.map { $0.sampleCount > 0 ? $0.sum / $0.sampleCount : 0 }.sorted()
                datapoint.ExtendedStatistics = Dictionary(uniqueKeysWithValues: extended.map { name in
                    let rank = Int((percentile(name)! / 100 * Double(values.count)).rounded(.up))
                    return (name, values[min(max(rank, 1), values.count) - 1])
                })
            }
            return datapoint
        }
    }

    /// The value of one statistic of a datapoint (GetMetricData's `Stat`).
    static func value(_ datapoint: CloudWatchDatapoint, _ stat: String) -> Double? {
        switch stat {
        case "SampleCount": return datapoint.SampleCount
        case "Average": return datapoint.Average
        case "Sum": return datapoint.Sum
        case "Minimum": return datapoint.Minimum
        case "Maximum": return datapoint.Maximum
        default: return datapoint.ExtendedStatistics?[stat]
        }
    }
}
