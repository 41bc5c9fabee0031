import FerryCatalog
import FerryCluster
import Foundation

/// RebootReplicationInstance and MoveReplicationTask. An instance is a label tasks carry, and the cluster's
/// nodes run them: a reboot restarts the instance's running tasks, and with ForceFailover or
/// ForcePlannedFailover moves them to other nodes, as DMS's Multi-AZ failover moves them to the standby.
extension DMSService {
    func rebootInstance(_ input: RebootReplicationInstanceMessage) async throws -> RebootReplicationInstanceResponse {
        var instance = try instance(input.ReplicationInstanceArn)
        let arn = instance.ReplicationInstanceArn!, name = instance.ReplicationInstanceIdentifier!
        let failover = input.ForceFailover == true, planned = input.ForcePlannedFailover == true
        if failover, planned {
            throw DMSError("InvalidParameterCombinationException", "ForceFailover and ForcePlannedFailover cannot both be true.")
        }
        if failover || planned {
            let live = try registry.nodes().filter { $0.leaseRemaining > 0 && !$0.draining }
            guard live.count >= 2 else {
                throw DMSError("InvalidParameterCombinationException", """
                    \(failover ? "ForceFailover" : "ForcePlannedFailover") moves the instance's tasks to another node, and node \(node.id) is the only \
                    live one: start another ferry serve on the same --catalog (docs/cluster.md).
                    """)
            }
        }
        let holdOff = failover || planned ? registry.policy.failoverHoldOff : 0
        let tasks = try catalog.list(.task, as: ReplicationTask.self).filter {
            $0.ReplicationInstanceArn == arn && ["starting", "running"].contains($0.Status ?? "")
        }
        for task in tasks {
            let taskArn = task.ReplicationTaskArn!
            if await supervisor.isActive(taskArn) {
                try await handOver(taskArn, avoiding: holdOff)
            } else if try registry.owner(of: taskArn) != nil {
                try registry.post(TaskRequest(taskArn: taskArn, kind: .move, body: "\(holdOff)"))
            }
        }
        let message = failover || planned
            ? "Multi-AZ failover started: the instance's \(tasks.count) running task(s) move to other nodes."
            : "Replication instance is rebooting: its \(tasks.count) running task(s) restart."
        event(name, type: "replication-instance", message, categories: [failover || planned ? "failover" : "configuration change"])
        instance.ReplicationInstanceStatus = "rebooting"
        return RebootReplicationInstanceResponse(ReplicationInstance: instance)
    }

    func moveTask(_ input: MoveReplicationTaskMessage) async throws -> MoveReplicationTaskResponse {
        var task = try task(input.ReplicationTaskArn)
        let arn = task.ReplicationTaskArn!, name = task.ReplicationTaskIdentifier!
        guard let targetArn = input.TargetReplicationInstanceArn, !targetArn.isEmpty else {
            throw DMSError.invalidParameter("TargetReplicationInstanceArn is required.")
        }
        let target = try instance(targetArn)
        guard targetArn != task.ReplicationInstanceArn else {
            throw DMSError.invalidParameter("TargetReplicationInstanceArn: task \(name) is on replication instance \(target.ReplicationInstanceIdentifier!) already.")
        }
        guard ["ready", "stopped", "failed"].contains(task.Status ?? ""), !(await supervisor.isActive(arn)), try registry.owner(of: arn) == nil else {
            throw DMSError.invalidState("Replication task \(name) is \(task.Status ?? "running"); stop it before moving it to another replication instance.")
        }
        _ = try catalog.modify(.task, arn: arn, as: ReplicationTask.self) { $0.ReplicationInstanceArn = targetArn }
        event(name, type: "replication-task", "Replication task has been moved to replication instance \(target.ReplicationInstanceIdentifier!).",
              categories: ["configuration change"])
        task.ReplicationInstanceArn = targetArn
        task.Status = "moving"
        return MoveReplicationTaskResponse(ReplicationTask: task)
    }
}
