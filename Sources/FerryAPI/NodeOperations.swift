import Foundation

/// `DescribeNodes` (Ferry's): the `ferry serve` processes that run tasks, with their figures. One node
/// today; the console's replication-instances page shows it.
struct DescribeNodesMessage: DMSShape {
    static let requiredMembers: [String] = []
}

struct DescribeNodesResponse: DMSShape {
    static let requiredMembers: [String] = []
    var Nodes: [NodeDescription]?
}

/// A node and what the metrics say of it (docs/metrics.md has the same figures as `ferry_process_…`).
struct NodeDescription: DMSShape {
    static let requiredMembers: [String] = []
    var NodeName: String?
    var StartTime: Date?
    var RunningTasks: Int?
    var CpuSeconds: Double?
    var ResidentMemoryBytes: Double?
    var DataDirectoryFreeBytes: Double?
}

extension DMSService {
    func describeNodes(_: DescribeNodesMessage) async -> DescribeNodesResponse {
        let figures = telemetry.nodeSnapshot()
        return DescribeNodesResponse(Nodes: [NodeDescription(
            NodeName: telemetry.nodeName, StartTime: startTime, RunningTasks: await supervisor.activeCount, CpuSeconds: figures.cpuSeconds,
            ResidentMemoryBytes: figures.residentMemoryBytes, DataDirectoryFreeBytes: figures.dataDirectoryFreeBytes)])
    }
}
