import FerryCatalog
import Foundation

/// GetMetricStatistics, GetMetricData and ListMetrics over the datapoints Ferry keeps in its catalog
/// (docs/metrics.md): DMS's metrics in namespace `AWS/DMS`, dimensions `ReplicationInstanceIdentifier`
/// and `ReplicationTaskIdentifier` (the task's resource id), matched exactly as CloudWatch matches them.
struct CloudWatchService: Sendable {
    let catalog: Catalog
    let now: @Sendable () -> Date

    static let pageSize = 500
    /// ListMetrics lists series with data in the last two weeks, as CloudWatch does.
    static let listedAge: TimeInterval = 14 * 86_400

    func handle(_ operation: CloudWatchOperation, _ body: Data) throws -> any Encodable {
        switch operation {
        case .getMetricStatistics: return try getMetricStatistics(try decode(GetMetricStatisticsInput.self, body))
        case .getMetricData: return try getMetricData(try decode(GetMetricDataInput.self, body))
        case .listMetrics: return try listMetrics(try decode(ListMetricsInput.self, body))
        }
    }

    private func decode<T: Decodable>(_ type: T.Type, _ body: Data) throws -> T {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .secondsSince1970
        do { return try decoder.decode(T.self, from: body.isEmpty ? Data("{}".utf8) : body) } catch {
            throw CloudWatchError.invalidValue("The request does not match \(T.self): \(error)")
        }
    }

    func getMetricStatistics(_ input: GetMetricStatisticsInput) throws -> GetMetricStatisticsOutput {
        guard let namespace = input.Namespace, !namespace.isEmpty else { throw CloudWatchError.missing("Namespace") }
        guard let metric = input.MetricName, !metric.isEmpty else { throw CloudWatchError.missing("MetricName") }
        try MetricStatistics.check(statistics: input.Statistics, extended: input.ExtendedStatistics)
        let plan = try MetricStatistics.plan(start: input.StartTime, end: input.EndTime, period: input.Period, now: now())
        let points = try catalog.metricPoints(namespace: namespace, metric: metric, dimensions: try dimensions(input.Dimensions),
                                              seconds: plan.resolution, from: plan.start, to: plan.end)
        return GetMetricStatisticsOutput(Label: metric, Datapoints: MetricStatistics.datapoints(
            points, plan: plan, statistics: input.Statistics ?? [], extended: input.ExtendedStatistics ?? [], unit: input.Unit))
    }

    func getMetricData(_ input: GetMetricDataInput) throws -> GetMetricDataOutput {
        guard let queries = input.MetricDataQueries, !queries.isEmpty else { throw CloudWatchError.missing("MetricDataQueries") }
        guard queries.count <= 500 else { throw CloudWatchError.invalidValue("At most 500 MetricDataQueries can be given; got \(queries.count).") }
        let scanBy = input.ScanBy ?? "TimestampDescending"
        guard ["TimestampDescending", "TimestampAscending"].contains(scanBy) else {
            throw CloudWatchError.invalidValue("The parameter ScanBy must be TimestampDescending or TimestampAscending; got '\(scanBy)'.")
        }
        var budget = input.MaxDatapoints ?? 100_800
        var results: [MetricDataResult] = []
        for (index, query) in queries.enumerated() {
            let id = query.Id ?? ""
            guard let first = id.first, first.isLowercase, first.isASCII,
                  id.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }) else {
                throw CloudWatchError.invalidValue("The parameter MetricDataQueries.member.\(index + 1).Id must start with a lower-case letter and hold only letters, digits and _; got '\(id)'.")
            }
            guard (query.MetricStat == nil) != (query.Expression == nil) else {
                throw CloudWatchError.combination("MetricDataQueries.member.\(index + 1) must have exactly one of MetricStat and Expression.")
            }
            guard query.ReturnData ?? true else { continue }
            guard let stat = query.MetricStat else {
                results.append(MetricDataResult(Id: id, Label: query.Label ?? id, Timestamps: [], Values: [], StatusCode: "InternalError",
                                                Messages: [MessageData(Code: "Unsupported", Value: "Ferry does not evaluate metric math or Metrics Insights expressions; use MetricStat.")]))
                continue
            }
            let name = stat.Stat ?? ""
            guard MetricStatistics.statistics.contains(name) || MetricStatistics.percentile(name) != nil else {
                throw CloudWatchError.invalidValue("The parameter MetricDataQueries.member.\(index + 1).MetricStat.Stat must be a statistic or a percentile; got '\(name)'.")
            }
            let plan = try MetricStatistics.plan(start: input.StartTime, end: input.EndTime, period: stat.Period, now: now(), checkCount: false)
            guard let namespace = stat.Metric?.Namespace, let metric = stat.Metric?.MetricName else {
                throw CloudWatchError.missing("MetricDataQueries.member.\(index + 1).MetricStat.Metric")
            }
            let points = try catalog.metricPoints(namespace: namespace, metric: metric, dimensions: try dimensions(stat.Metric?.Dimensions),
                                                  seconds: plan.resolution, from: plan.start, to: plan.end)
            let isPercentile = MetricStatistics.percentile(name) != nil
            var datapoints = MetricStatistics.datapoints(points, plan: plan, statistics: isPercentile ? [] : [name],
                                                         extended: isPercentile ? [name] : [], unit: stat.Unit)
                .compactMap { point in MetricStatistics.value(point, name).map { (point.Timestamp, $0) } }
                .sorted { scanBy == "TimestampAscending" ? $0.0 < $1.0 : $0.0 > $1.0 }
            let complete = datapoints.count <= budget
            datapoints = Array(datapoints.prefix(max(budget, 0)))
            budget -= datapoints.count
            results.append(MetricDataResult(Id: id, Label: query.Label ?? metric, Timestamps: datapoints.map(\.0), Values: datapoints.map(\.1),
                                            StatusCode: complete ? "Complete" : "PartialData", Messages: nil))
        }
        return GetMetricDataOutput(MetricDataResults: results, Messages: [])
    }

    func listMetrics(_ input: ListMetricsInput) throws -> ListMetricsOutput {
        if let active = input.RecentlyActive, active != "PT3H" {
            throw CloudWatchError.invalidValue("The parameter RecentlyActive must be PT3H; got '\(active)'.")
        }
        let since = now().addingTimeInterval(-(input.RecentlyActive == nil ? Self.listedAge : 3 * 3600))
        let filters = input.Dimensions ?? []
        let series = try catalog.metricSeries(since: since).filter { series in
            (input.Namespace == nil || input.Namespace == series.namespace) && (input.MetricName == nil || input.MetricName == series.metric)
                && filters.allSatisfy { filter in
                    series.dimensions.contains { $0.name == filter.Name && (filter.Value == nil || $0.value == filter.Value) }
                }
        }
        // The same tokens as DMS's Marker paging, in CloudWatch's terms.
        let page: Page
        do { page = try Page(marker: input.NextToken, maxRecords: nil, defaultSize: Self.pageSize, maximum: Self.pageSize) } catch {
            throw CloudWatchError.nextToken(input.NextToken ?? "")
        }
        let (items, next) = page.slice(series)
        return ListMetricsOutput(Metrics: items.map { series in
            CloudWatchMetric(Namespace: series.namespace, MetricName: series.metric,
                             Dimensions: series.dimensions.map { CloudWatchDimension(Name: $0.name, Value: $0.value) })
        }, NextToken: next)
    }

    /// A request's dimensions: each with a name and a value, at most 30.
    private func dimensions(_ given: [CloudWatchDimension]?) throws -> [MetricDimension] {
        let given = given ?? []
        guard given.count <= 30 else { throw CloudWatchError.invalidValue("At most 30 Dimensions can be given; got \(given.count).") }
        return try given.enumerated().map { index, dimension in
            guard let name = dimension.Name, !name.isEmpty, let value = dimension.Value else {
                throw CloudWatchError.missing("Dimensions.member.\(index + 1).Name and Value")
            }
            return MetricDimension(name: name, value: value)
        }
    }
}
