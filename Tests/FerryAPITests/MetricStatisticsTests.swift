@testable import FerryAPI
import FerryCatalog
import Foundation
import Testing

@Suite("CloudWatch statistics and the query protocol")
struct MetricStatisticsTests {
    static let now = Date(timeIntervalSince1970: 1_800_000_000)

    static func point(_ offset: Double, count: Double, sum: Double, min: Double, max: Double, seconds: Int = 60) -> StoredMetricPoint {
        StoredMetricPoint(namespace: "AWS/DMS", metric: "CDCLatencySource", dimensions: [], unit: "Seconds",
                          start: now.addingTimeInterval(offset), seconds: seconds, sampleCount: count, sum: sum, minimum: min, maximum: max)
    }

    static func error(_ work: () throws -> Void) -> CloudWatchError? {
        do { try work() } catch let error as CloudWatchError { return error } catch { return nil }
        return nil
    }

    @Test("periods, ranges and the 1,440-datapoint limit give CloudWatch's errors")
    func rules() throws {
        #expect(Self.error { _ = try MetricStatistics.plan(start: Self.now, end: Self.now.addingTimeInterval(-1), period: 60, now: Self.now) }?.code == "InvalidParameterValue")
        #expect(Self.error { _ = try MetricStatistics.plan(start: Self.now.addingTimeInterval(-3600), end: Self.now, period: 45, now: Self.now) }?.code == "InvalidParameterValue")
        #expect(Self.error { _ = try MetricStatistics.plan(start: Self.now.addingTimeInterval(-86_400), end: Self.now, period: 10, now: Self.now) }?.message.contains("older than 3 hours") == true)
        #expect(Self.error { _ = try MetricStatistics.plan(start: Self.now.addingTimeInterval(-86_400), end: Self.now, period: 60, now: Self.now) } == nil,
                "exactly 1,440 datapoints are allowed")
        let over = Self.error { _ = try MetricStatistics.plan(start: Self.now.addingTimeInterval(-86_460), end: Self.now, period: 60, now: Self.now) }
        #expect(over?.code == "InvalidParameterCombination")
        #expect(over?.message == "You have requested up to 1441 datapoints, which exceeds the limit of 1440. "
                + "You may reduce the datapoints requested by increasing Period, or decreasing the time range.")
        #expect(Self.error { _ = try MetricStatistics.plan(start: nil, end: Self.now, period: 60, now: Self.now) }?.code == "MissingParameter")
        // The start is rounded down to the stored resolution.
        let plan = try MetricStatistics.plan(start: Self.now.addingTimeInterval(-125), end: Self.now, period: 60, now: Self.now)
        #expect(plan.start.timeIntervalSince1970.truncatingRemainder(dividingBy: 60) == 0 && plan.resolution == 60)
        #expect(Self.error { try MetricStatistics.check(statistics: ["Average"], extended: ["p99"]) }?.code == "InvalidParameterCombination")
        #expect(Self.error { try MetricStatistics.check(statistics: nil, extended: nil) }?.code == "InvalidParameterCombination")
        #expect(Self.error { try MetricStatistics.check(statistics: ["Mean"], extended: nil) }?.message.contains("Statistics.member.1") == true)
        #expect(Self.error { try MetricStatistics.check(statistics: nil, extended: ["p101"]) }?.code == "InvalidParameterValue")
    }

    @Test("each period's statistics combine its points; percentiles rank the points' averages; the unit filters")
    func datapoints() throws {
        let plan = try MetricStatistics.plan(start: Self.now.addingTimeInterval(-600), end: Self.now, period: 300, now: Self.now)
        let points = [Self.point(-600, count: 60, sum: 60, min: 0.5, max: 2), Self.point(-540, count: 60, sum: 120, min: 1, max: 4),
                      Self.point(-300, count: 30, sum: 300, min: 5, max: 20)]
        let result = MetricStatistics.datapoints(points, plan: plan, statistics: ["SampleCount", "Average", "Sum", "Minimum", "Maximum"],
                                                 extended: ["p50", "p100"], unit: nil).sorted { $0.Timestamp < $1.Timestamp }
        #expect(result.count == 2)
        #expect(result[0].SampleCount == 120 && result[0].Sum == 180 && result[0].Average == 1.5)
        #expect(result[0].Minimum == 0.5 && result[0].Maximum == 4 && result[0].Unit == "Seconds")
        #expect(result[0].ExtendedStatistics == ["p50": 1, "p100": 2])
        #expect(result[1].Timestamp == Self.now.addingTimeInterval(-300) && result[1].Average == 10)
        #expect(MetricStatistics.datapoints(points, plan: plan, statistics: ["Sum"], extended: [], unit: "Count").isEmpty)
    }

    @Test("a query-protocol form becomes the JSON body; an answer becomes XML under the action's result")
    func queryProtocol() throws {
        let form = "Action=GetMetricStatistics&Version=2010-08-01&Namespace=AWS%2FDMS&MetricName=CDCLatencySource"
            + "&Dimensions.member.1.Name=ReplicationInstanceIdentifier&Dimensions.member.1.Value=ri-1"
            + "&Dimensions.member.2.Name=ReplicationTaskIdentifier&Dimensions.member.2.Value=ABC"
            + "&StartTime=2024-01-01T00%3A00%3A00Z&EndTime=2024-01-01T01%3A00%3A00Z&Period=60&Statistics.member.1=Average&Statistics.member.2=Maximum"
        let parameters = QueryProtocol.parameters(Data(form.utf8))
        #expect(parameters["Action"] == "GetMetricStatistics")
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .secondsSince1970
        let input = try decoder.decode(GetMetricStatisticsInput.self, from: try QueryProtocol.json(parameters))
        #expect(input.Namespace == "AWS/DMS" && input.Period == 60 && input.Statistics == ["Average", "Maximum"])
        #expect(input.Dimensions == [CloudWatchDimension(Name: "ReplicationInstanceIdentifier", Value: "ri-1"), CloudWatchDimension(Name: "ReplicationTaskIdentifier", Value: "ABC")])
        #expect(input.StartTime == Date(timeIntervalSince1970: 1_704_067_200))
        let output = GetMetricStatisticsOutput(Label: "CDCLatencySource", Datapoints: [
            CloudWatchDatapoint(Timestamp: Date(timeIntervalSince1970: 1_704_067_260), Average: 1.5, Unit: "Seconds", ExtendedStatistics: ["p99": 2]),
        ])
        let xml = String(decoding: try QueryProtocol.response(output, action: "GetMetricStatistics", requestID: "r1"), as: UTF8.self)
        #expect(xml == "<GetMetricStatisticsResponse xmlns=\"http://monitoring.amazonaws.com/doc/2010-08-01/\"><GetMetricStatisticsResult>"
                + "<Datapoints><member><Average>1.5</Average><ExtendedStatistics><entry><key>p99</key><value>2</value></entry></ExtendedStatistics>"
                + "<Timestamp>2024-01-01T00:01:00Z</Timestamp><Unit>Seconds</Unit></member></Datapoints><Label>CDCLatencySource</Label>"
                + "</GetMetricStatisticsResult><ResponseMetadata><RequestId>r1</RequestId></ResponseMetadata></GetMetricStatisticsResponse>")
        #expect(Self.error { _ = try QueryProtocol.json(["Period": "sixty"]) }?.message.contains("Period") == true)
    }
}
