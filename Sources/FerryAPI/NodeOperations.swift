import Foundation

/// `DescribeNodes` (Ferry's): the `ferry serve` nodes sharing the catalog, with their leases and the
/// tasks they hold; the node that answers adds its own process figures. The console's
/// replication-instances page shows them.
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
    /// Where its API listens.
    var Address: String?
    var StartTime: Date?
    /// Seconds until its lease runs out, by the catalog's clock; negative once it has (the node is gone).
    var LeaseSecondsLeft: Double?
    var Draining: Bool?
    /// The tasks it holds.
    var RunningTasks: Int?
    var CpuSeconds: Double?
    var ResidentMemoryBytes: Double?
    var DataDirectoryFreeBytes: Double?
}

extension DMSService {
    func describeNodes(_: DescribeNodesMessage) async throws -> DescribeNodesResponse {
        let figures = telemetry.nodeSnapshot()
        return DescribeNodesResponse(Nodes: try registry.nodes().map { record in
            var description = NodeDescription(NodeName: record.nodeID, Address: record.address, StartTime: record.startedAt,
                                              LeaseSecondsLeft: (record.leaseRemaining * 10).rounded() / 10, Draining: record.draining,
                                              RunningTasks: record.tasks)
            if record.nodeID == node.id {
                description.CpuSeconds = figures.cpuSeconds
                description.ResidentMemoryBytes = figures.residentMemoryBytes
                description.DataDirectoryFreeBytes = figures.dataDirectoryFreeBytes
            }
            return description
        })
    }
}
