import FerryCatalog
import FerryEngine
import Foundation

/// DMS Serverless replication configs. A config runs as a replication task of the same name and id
/// (`…:task:<id>` beside `…:replication-config:<id>`), with no replication instance: its capacity units
/// set how many tables it loads at once (``CapacityUnits``). The task is made with the config, changed with
/// it, and deleted with it; its logs, statistics, events and metrics are the replication's.
extension DMSService {
    func replicationConfig(_ arn: String?) throws -> ReplicationConfig {
        guard let arn, !arn.isEmpty, let config = try catalog.get(.replicationConfig, arn: arn, as: ReplicationConfig.self) else {
            throw DMSError.notFound("Replication config '\(arn ?? "")' not found.")
        }
        return config
    }

    /// The task a config runs as.
    static func taskArn(ofConfig arn: String) -> String {
        arn.replacingOccurrences(of: ":replication-config:", with: ":task:")
    }

    /// The config a serverless replication's task runs for.
    static func configArn(ofTask arn: String) -> String {
        arn.replacingOccurrences(of: ":task:", with: ":replication-config:")
    }

    func createReplicationConfig(_ input: CreateReplicationConfigMessage, _ context: RequestContext) throws -> CreateReplicationConfigResponse {
        let identifier = input.ReplicationConfigIdentifier ?? ""
        try ResourceNames.validate(identifier, field: "ReplicationConfigIdentifier", maxLength: 255)
        let id = input.ResourceIdentifier ?? ResourceNames.randomID()
        let now = Date()
        var config = ReplicationConfig(
            ReplicationConfigIdentifier: identifier,
            ReplicationConfigArn: ResourceNames.arn(region: context.region, account: context.account, type: "replication-config", id: id),
            SourceEndpointArn: input.SourceEndpointArn, TargetEndpointArn: input.TargetEndpointArn, ReplicationType: input.ReplicationType,
            ComputeConfig: input.ComputeConfig, ReplicationSettings: input.ReplicationSettings, SupplementalSettings: input.SupplementalSettings,
            TableMappings: input.TableMappings, ReplicationConfigCreateTime: now, ReplicationConfigUpdateTime: now, IsReadOnly: false)
        let settings = try checked(&config, context)
        let arn = config.ReplicationConfigArn!
        let task = ReplicationTask(ReplicationTaskIdentifier: identifier, SourceEndpointArn: config.SourceEndpointArn,
                                   TargetEndpointArn: config.TargetEndpointArn, MigrationType: config.ReplicationType,
                                   TableMappings: config.TableMappings, ReplicationTaskSettings: settings.effectiveJSON, Status: "ready",
                                   ReplicationTaskCreationDate: now, ReplicationTaskArn: Self.taskArn(ofConfig: arn))
        // It runs as a task, and counts as one.
        try checkQuota("ReplicationTasks")
        try insert(.replicationConfig, arn: arn, identifier: identifier, config)
        do {
            try catalog.insert(.task, arn: task.ReplicationTaskArn!, identifier: identifier, task)
        } catch CatalogError.alreadyExists {
            try catalog.delete(arn: arn)
            throw DMSError.alreadyExists("A replication task named '\(identifier)' exists, and a serverless replication runs as a task of its config's name: choose another ReplicationConfigIdentifier.")
        }
        try catalog.setDocument(settings.userJSON, name: Self.userSettingsDocument, for: task.ReplicationTaskArn!)
        try storeTags(input.Tags, for: arn)
        reportUnhonoured(settings, task: identifier)
        return CreateReplicationConfigResponse(ReplicationConfig: config)
    }

    /// Checks a config's fields as CreateReplicationConfig and ModifyReplicationConfig take them, and
    /// returns its task settings; the identifier is kept as given, the compute config with DMS's defaults.
    private func checked(_ config: inout ReplicationConfig, _ context: RequestContext) throws -> TaskSettings {
        _ = try endpointPair(config.SourceEndpointArn, config.TargetEndpointArn)
        config.ReplicationType = try validateMigrationType(config.ReplicationType)
        var compute = try CapacityUnits.check(config.ComputeConfig)
        if let group = compute.ReplicationSubnetGroupId { _ = try subnetGroup(group, context) }
        compute.MultiAZ = compute.MultiAZ ?? false
        config.ComputeConfig = compute
        _ = try parseMappings(config.TableMappings)
        return try parseSettings { try TaskSettings(config.ReplicationSettings) }
    }

    func describeReplicationConfigs(_ input: DescribeReplicationConfigsMessage) throws -> DescribeReplicationConfigsResponse {
        let filters = try FilterSet(input.Filters, allowed: ["replication-config-arn", "replication-config-id"])
        let (configs, marker) = try describe(try catalog.list(.replicationConfig, as: ReplicationConfig.self), filters: filters,
                                             page: try Page(marker: input.Marker, maxRecords: input.MaxRecords),
                                             noneFound: "No replication configs found matching provided filters") { config, name in
            name == "replication-config-arn" ? config.ReplicationConfigArn : config.ReplicationConfigIdentifier
        }
        return DescribeReplicationConfigsResponse(Marker: marker, ReplicationConfigs: configs)
    }

    /// Changes a config that is not running, and its task with it.
    func modifyReplicationConfig(_ input: ModifyReplicationConfigMessage, _ context: RequestContext) async throws -> ModifyReplicationConfigResponse {
        var config = try replicationConfig(input.ReplicationConfigArn)
        let arn = config.ReplicationConfigArn!
        let taskArn = Self.taskArn(ofConfig: arn)
        try await requireNotRunning(config, taskArn, doing: "modified")
        if let identifier = input.ReplicationConfigIdentifier {
            try ResourceNames.validate(identifier, field: "ReplicationConfigIdentifier", maxLength: 255)
            config.ReplicationConfigIdentifier = identifier
        }
        config.ReplicationType = input.ReplicationType ?? config.ReplicationType
        config.TableMappings = input.TableMappings ?? config.TableMappings
        config.ReplicationSettings = input.ReplicationSettings ?? config.ReplicationSettings
        config.SupplementalSettings = input.SupplementalSettings ?? config.SupplementalSettings
        config.ComputeConfig = input.ComputeConfig ?? config.ComputeConfig
        config.SourceEndpointArn = input.SourceEndpointArn ?? config.SourceEndpointArn
        config.TargetEndpointArn = input.TargetEndpointArn ?? config.TargetEndpointArn
        config.ReplicationConfigUpdateTime = Date()
        let settings = try checked(&config, context)
        let identifier = config.ReplicationConfigIdentifier!
        do {
            try catalog.update(.replicationConfig, arn: arn, identifier: identifier, config)
            _ = try catalog.modify(.task, arn: taskArn, as: ReplicationTask.self) { task in
                task.ReplicationTaskIdentifier = identifier
                task.SourceEndpointArn = config.SourceEndpointArn
                task.TargetEndpointArn = config.TargetEndpointArn
                task.MigrationType = config.ReplicationType
                task.TableMappings = config.TableMappings
                task.ReplicationTaskSettings = settings.effectiveJSON
            }
        } catch CatalogError.alreadyExists {
            throw DMSError.alreadyExists("A replication config or task named '\(identifier)' already exists.")
        }
        try catalog.setDocument(settings.userJSON, name: Self.userSettingsDocument, for: taskArn)
        reportUnhonoured(settings, task: identifier)
        return ModifyReplicationConfigResponse(ReplicationConfig: config)
    }

    /// Deletes a config that is not running, with its task (whose capture on the source is dropped).
    func deleteReplicationConfig(_ input: DeleteReplicationConfigMessage) async throws -> DeleteReplicationConfigResponse {
        let config = try replicationConfig(input.ReplicationConfigArn)
        let taskArn = Self.taskArn(ofConfig: config.ReplicationConfigArn!)
        try await requireNotRunning(config, taskArn, doing: "deleted")
        if try catalog.get(.task, arn: taskArn, as: ReplicationTask.self) != nil {
            _ = try await deleteTask(DeleteReplicationTaskMessage(ReplicationTaskArn: taskArn))
        }
        try catalog.delete(arn: config.ReplicationConfigArn!)
        return DeleteReplicationConfigResponse(ReplicationConfig: config)
    }

    private func requireNotRunning(_ config: ReplicationConfig, _ taskArn: String, doing what: String) async throws {
        let status = try catalog.get(.task, arn: taskArn, as: ReplicationTask.self)?.Status ?? "ready"
        guard ["ready", "stopped", "failed"].contains(status), !(await supervisor.isActive(taskArn)) else {
            throw DMSError.invalidState("Replication config \(config.ReplicationConfigIdentifier ?? "") cannot be \(what) while its replication is \(status): StopReplication first.")
        }
    }
}
