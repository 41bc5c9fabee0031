import FerryCatalog
import Foundation

/// DMS Serverless replications: a config's runs, started, stopped, reloaded and described through the task
/// it runs as (``DMSService/taskArn(ofConfig:)``), in DMS's `Replication` shape.
extension DMSService {
    func startReplication(_ input: StartReplicationMessage) async throws -> StartReplicationResponse {
        let config = try replicationConfig(input.ReplicationConfigArn)
        let started = try await startTask(StartReplicationTaskMessage(
            ReplicationTaskArn: Self.taskArn(ofConfig: config.ReplicationConfigArn!), StartReplicationTaskType: input.StartReplicationType,
            CdcStartTime: input.CdcStartTime, CdcStartPosition: input.CdcStartPosition, CdcStopPosition: input.CdcStopPosition))
        var replication = Self.replication(config, started.ReplicationTask)
        replication.StartReplicationType = input.StartReplicationType
        return StartReplicationResponse(Replication: replication)
    }

    func stopReplication(_ input: StopReplicationMessage) async throws -> StopReplicationResponse {
        let config = try replicationConfig(input.ReplicationConfigArn)
        let stopped = try await stopTask(StopReplicationTaskMessage(ReplicationTaskArn: Self.taskArn(ofConfig: config.ReplicationConfigArn!)))
        return StopReplicationResponse(Replication: Self.replication(config, stopped.ReplicationTask))
    }

    func describeReplications(_ input: DescribeReplicationsMessage) throws -> DescribeReplicationsResponse {
        let filters = try FilterSet(input.Filters, allowed: ["replication-config-arn", "replication-config-id"])
        let tasks = Dictionary(try catalog.list(.task, as: ReplicationTask.self).map { ($0.ReplicationTaskArn ?? "", $0) }) { a, _ in a }
        let replications = try catalog.list(.replicationConfig, as: ReplicationConfig.self).map { config in
            Self.replication(config, tasks[Self.taskArn(ofConfig: config.ReplicationConfigArn!)])
        }
        let (items, marker) = try describe(replications, filters: filters, page: try Page(marker: input.Marker, maxRecords: input.MaxRecords),
                                           noneFound: "No replications found matching provided filters") { replication, name in
            name == "replication-config-arn" ? replication.ReplicationConfigArn : replication.ReplicationConfigIdentifier
        }
        return DescribeReplicationsResponse(Marker: marker, Replications: items)
    }

    func describeReplicationTableStatistics(_ input: DescribeReplicationTableStatisticsMessage) throws -> DescribeReplicationTableStatisticsResponse {
        let config = try replicationConfig(input.ReplicationConfigArn)
        let statistics = try describeTableStatistics(DescribeTableStatisticsMessage(
            ReplicationTaskArn: Self.taskArn(ofConfig: config.ReplicationConfigArn!), MaxRecords: input.MaxRecords, Marker: input.Marker,
            Filters: input.Filters))
        return DescribeReplicationTableStatisticsResponse(ReplicationConfigArn: config.ReplicationConfigArn, Marker: statistics.Marker,
                                                          ReplicationTableStatistics: statistics.TableStatistics)
    }

    func reloadReplicationTables(_ input: ReloadReplicationTablesMessage) async throws -> ReloadReplicationTablesResponse {
        let config = try replicationConfig(input.ReplicationConfigArn)
        _ = try await reloadTables(ReloadTablesMessage(ReplicationTaskArn: Self.taskArn(ofConfig: config.ReplicationConfigArn!),
                                                       TablesToReload: input.TablesToReload, ReloadOption: input.ReloadOption))
        return ReloadReplicationTablesResponse(ReplicationConfigArn: config.ReplicationConfigArn)
    }

    /// A config's replication as DMS describes it, from the task it runs as (nil: deleted by hand, so never run).
    static func replication(_ config: ReplicationConfig, _ task: ReplicationTask?) -> Replication {
        let status = replicationStatus(task?.Status)
        let running = ["initializing", "running", "stopping"].contains(status)
        let stats = task?.ReplicationTaskStats
        return Replication(
            ReplicationConfigIdentifier: config.ReplicationConfigIdentifier, ReplicationConfigArn: config.ReplicationConfigArn,
            SourceEndpointArn: config.SourceEndpointArn, TargetEndpointArn: config.TargetEndpointArn, ReplicationType: config.ReplicationType,
            Status: status,
            ProvisionData: ProvisionData(ProvisionState: running ? "provisioned" : "deprovisioned",
                                         ProvisionedCapacityUnits: running ? config.ComputeConfig?.MaxCapacityUnits ?? 0 : 0,
                                         DateProvisioned: running ? task?.ReplicationTaskStartDate : nil, IsNewProvisioningAvailable: false),
            StopReason: task?.StopReason, FailureMessages: task?.LastFailureMessage.map { [$0] },
            ReplicationStats: stats.map { stats in
                ReplicationStats(FullLoadProgressPercent: stats.FullLoadProgressPercent, ElapsedTimeMillis: stats.ElapsedTimeMillis,
                                 TablesLoaded: stats.TablesLoaded, TablesLoading: stats.TablesLoading, TablesQueued: stats.TablesQueued,
                                 TablesErrored: stats.TablesErrored, FreshStartDate: stats.FreshStartDate, StartDate: stats.StartDate,
                                 StopDate: stats.StopDate, FullLoadStartDate: stats.FullLoadStartDate, FullLoadFinishDate: stats.FullLoadFinishDate)
            },
            CdcStartPosition: task?.CdcStartPosition, CdcStopPosition: task?.CdcStopPosition, RecoveryCheckpoint: task?.RecoveryCheckpoint,
            ReplicationCreateTime: config.ReplicationConfigCreateTime, ReplicationUpdateTime: config.ReplicationConfigUpdateTime,
            ReplicationLastStopTime: stats?.StopDate, IsReadOnly: false)
    }

    /// DMS Serverless's status for a task's: `created` before the first start, `initializing` while it
    /// starts, then the task's own (`running`, `stopping`, `stopped`, `failed`).
    static func replicationStatus(_ taskStatus: String?) -> String {
        switch taskStatus ?? "ready" {
        case "ready", "creating": return "created"
        case "starting": return "initializing"
        case let status: return status
        }
    }
}
