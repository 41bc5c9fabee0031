import Foundation

/// One CloudWatch datapoint as stored: what a series recorded during `seconds` (10 or 60) from `start`.
public struct StoredMetricPoint: Sendable, Equatable {
    public var namespace: String
    public var metric: String
    /// Name and value pairs, sorted by name: a series is matched by all of them exactly.
    public var dimensions: [MetricDimension]
    public var unit: String
    public var start: Date
    public var seconds: Int
    public var sampleCount: Double
    public var sum: Double
    public var minimum: Double
    public var maximum: Double

    public init(namespace: String, metric: String, dimensions: [MetricDimension], unit: String, start: Date, seconds: Int,
                sampleCount: Double, sum: Double, minimum: Double, maximum: Double) {
        self.namespace = namespace
        self.metric = metric
        self.dimensions = dimensions.sorted { $0.name < $1.name }
        self.unit = unit
        self.start = start
        self.seconds = seconds
        self.sampleCount = sampleCount
        self.sum = sum
        self.minimum = minimum
        self.maximum = maximum
    }
}

public struct MetricDimension: Sendable, Hashable, Codable {
    public var name: String
    public var value: String

    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }
}

/// A series: a metric and its exact dimensions, with its unit and its newest point.
public struct MetricSeries: Sendable, Equatable {
    public var namespace: String
    public var metric: String
    public var dimensions: [MetricDimension]
    public var unit: String
    public var newest: Date
}

extension Catalog {
    static func dimensionsKey(_ dimensions: [MetricDimension]) -> String {
        dimensions.sorted { $0.name < $1.name }.map { "\($0.name)=\($0.value)" }.joined(separator: "\n")
    }

    static func dimensions(fromKey key: String) -> [MetricDimension] {
        key.split(separator: "\n").compactMap { pair -> MetricDimension? in
            guard let equals = pair.firstIndex(of: "=") else { return nil }
            return MetricDimension(name: String(pair[..<equals]), value: String(pair[equals...].dropFirst()))
        }
    }

    public func saveMetricPoints(_ points: [StoredMetricPoint]) throws {
        guard !points.isEmpty else { return }
        try store.write { db in
            for point in points {
                try db.execute("""
                    INSERT INTO metric_points (seconds, namespace, metric, dimensions, unit, start, sample_count, sum, minimum, maximum)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT (seconds, namespace, metric, dimensions, start) DO UPDATE SET unit = excluded.unit,
                      sample_count = excluded.sample_count, sum = excluded.sum, minimum = excluded.minimum, maximum = excluded.maximum
                    """, [point.seconds, point.namespace, point.metric, Self.dimensionsKey(point.dimensions), point.unit,
                                     point.start.timeIntervalSince1970, point.sampleCount, point.sum, point.minimum, point.maximum])
            }
        }
    }

    /// A series' points of one resolution that start within [from, to).
    public func metricPoints(namespace: String, metric: String, dimensions: [MetricDimension], seconds: Int,
                             from: Date, to: Date) throws -> [StoredMetricPoint] {
        try store.read { db in
            try db.rows("""
                SELECT unit, start, sample_count, sum, minimum, maximum FROM metric_points
                WHERE seconds = ? AND namespace = ? AND metric = ? AND dimensions = ? AND start >= ? AND start < ? ORDER BY start
                """, [seconds, namespace, metric, Self.dimensionsKey(dimensions), from.timeIntervalSince1970, to.timeIntervalSince1970])
            .map { row in
                StoredMetricPoint(namespace: namespace, metric: metric, dimensions: dimensions, unit: try row.string("unit"),
                                  start: try row.date("start"), seconds: seconds, sampleCount: try row.double("sample_count"),
                                  sum: try row.double("sum"), minimum: try row.double("minimum"), maximum: try row.double("maximum"))
            }
        }
    }

    /// Every series with a point since `since`.
    public func metricSeries(since: Date) throws -> [MetricSeries] {
        try store.read { db in
            try db.rows("""
                SELECT namespace, metric, dimensions, max(unit) AS unit, max(start) AS newest FROM metric_points
                WHERE start >= ? GROUP BY namespace, metric, dimensions ORDER BY namespace, metric, dimensions
                """, [since.timeIntervalSince1970])
            .map { row in
                MetricSeries(namespace: try row.string("namespace"), metric: try row.string("metric"),
                             dimensions: Self.dimensions(fromKey: try row.string("dimensions")),
                             unit: try row.string("unit"), newest: try row.date("newest"))
            }
        }
    }

    /// Drops points older than their resolution's retention, then the oldest minute points past `maximumPoints`.
    public func pruneMetricPoints(now: Date, retention: [Int: TimeInterval], maximumPoints: Int) throws {
        try store.write { db in
            for (seconds, age) in retention {
                try db.execute("DELETE FROM metric_points WHERE seconds = ? AND start < ?", [seconds, now.timeIntervalSince1970 - age])
            }
            let count = try db.row("SELECT count(*) AS n FROM metric_points")?.int("n") ?? 0
            if count > maximumPoints {
                try db.execute("""
                    DELETE FROM metric_points WHERE (seconds, namespace, metric, dimensions, start) IN
                      (SELECT seconds, namespace, metric, dimensions, start FROM metric_points ORDER BY start LIMIT ?)
                    """, [count - maximumPoints])
            }
        }
    }
}
