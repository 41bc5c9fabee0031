import Foundation

/// The CloudWatch operations Ferry answers, for DMS's metrics (namespace `AWS/DMS`).
enum CloudWatchOperation: String, Sendable {
    case getMetricStatistics = "GetMetricStatistics"
    case getMetricData = "GetMetricData"
    case listMetrics = "ListMetrics"
}

struct CloudWatchDimension: Codable, Sendable, Equatable {
    var Name: String?
    var Value: String?
}

struct GetMetricStatisticsInput: Codable, Sendable {
    var Namespace: String?
    var MetricName: String?
    var Dimensions: [CloudWatchDimension]?
    var StartTime: Date?
    var EndTime: Date?
    var Period: Int?
    var Statistics: [String]?
    var ExtendedStatistics: [String]?
    var Unit: String?
}

struct CloudWatchDatapoint: Codable, Sendable, Equatable {
    var Timestamp: Date
    var SampleCount: Double?
    var Average: Double?
    var Sum: Double?
    var Minimum: Double?
    var Maximum: Double?
    var Unit: String?
    var ExtendedStatistics: [String: Double]?
}

struct GetMetricStatisticsOutput: Codable, Sendable {
    var Label: String
    var Datapoints: [CloudWatchDatapoint]
}

struct CloudWatchMetric: Codable, Sendable, Equatable {
    var Namespace: String?
    var MetricName: String?
    var Dimensions: [CloudWatchDimension]?
}

struct MetricStat: Codable, Sendable {
    var Metric: CloudWatchMetric?
    var Period: Int?
    var Stat: String?
    var Unit: String?
}

struct MetricDataQuery: Codable, Sendable {
    var Id: String?
    var MetricStat: MetricStat?
    var Expression: String?
    var Label: String?
    var ReturnData: Bool?
    var Period: Int?
}

struct GetMetricDataInput: Codable, Sendable {
    var MetricDataQueries: [MetricDataQuery]?
    var StartTime: Date?
    var EndTime: Date?
    var NextToken: String?
    var ScanBy: String?
    var MaxDatapoints: Int?
}

struct MessageData: Codable, Sendable, Equatable {
    var Code: String
    var Value: String
}

struct MetricDataResult: Codable, Sendable {
    var Id: String
    var Label: String
    var Timestamps: [Date]
    var Values: [Double]
    var StatusCode: String
    var Messages: [MessageData]?
}

struct GetMetricDataOutput: Codable, Sendable {
    var MetricDataResults: [MetricDataResult]
    var Messages: [MessageData]
}

struct ListMetricsInput: Codable, Sendable {
    var Namespace: String?
    var MetricName: String?
    var Dimensions: [CloudWatchDimension]?
    var NextToken: String?
    var RecentlyActive: String?
}

struct ListMetricsOutput: Codable, Sendable {
    var Metrics: [CloudWatchMetric]
    var NextToken: String?
}

/// A CloudWatch fault: the query protocol's code (`InvalidParameterValue`), the JSON protocol's type
/// (`InvalidParameterValueException`), the HTTP status and the message.
struct CloudWatchError: Error, Sendable, Equatable {
    var code: String
    var type: String
    var status: Int
    var message: String

    static func invalidValue(_ message: String) -> Self { Self(code: "InvalidParameterValue", type: "InvalidParameterValueException", status: 400, message: message) }
    static func combination(_ message: String) -> Self {
        Self(code: "InvalidParameterCombination", type: "InvalidParameterCombinationException", status: 400, message: message)
    }
    static func missing(_ parameter: String) -> Self {
        Self(code: "MissingParameter", type: "MissingRequiredParameterException", status: 400, message: "The parameter \(parameter) is required.")
    }
    static func nextToken(_ token: String) -> Self { Self(code: "InvalidNextToken", type: "InvalidNextToken", status: 400, message: "The NextToken '\(token)' is not one this server returned.") }
}
