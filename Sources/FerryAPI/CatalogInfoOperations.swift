import Foundation

/// What the server offers, for tools that ask before they create: the instance classes, the engine
/// version, and maintenance (which a Ferry server never schedules).
extension DMSService {
    /// Every offered class with DMS's storage figures; a class's size sets the tables it loads at once (README).
    func describeOrderableInstances(_ input: DescribeOrderableReplicationInstancesMessage, _ context: RequestContext) throws -> DescribeOrderableReplicationInstancesResponse {
        let page = try Page(marker: input.Marker, maxRecords: input.MaxRecords)
        let (items, marker) = page.slice(InstanceClass.offered.map { name in
            OrderableReplicationInstance(EngineVersion: InstanceClass.engineVersion, ReplicationInstanceClass: name, StorageType: "gp2",
                                         MinAllocatedStorage: InstanceClass.storage.minimum, MaxAllocatedStorage: InstanceClass.storage.maximum,
                                         DefaultAllocatedStorage: InstanceClass.storage.standard, IncludedAllocatedStorage: InstanceClass.storage.standard,
                                         AvailabilityZones: ["a", "b", "c"].map { "\(context.region)\($0)" })
        })
        return DescribeOrderableReplicationInstancesResponse(OrderableReplicationInstances: items, Marker: marker)
    }

    func describeEngineVersions(_ input: DescribeEngineVersionsMessage) throws -> DescribeEngineVersionsResponse {
        let page = try Page(marker: input.Marker, maxRecords: input.MaxRecords)
        let (items, marker) = page.slice([EngineVersion(Version: InstanceClass.engineVersion, Lifecycle: "active", ReleaseStatus: "prod", AvailableUpgrades: [])])
        return DescribeEngineVersionsResponse(EngineVersions: items, Marker: marker)
    }

    /// None: a Ferry server is upgraded by its operator, not by a maintenance window.
    func describePendingMaintenance(_ input: DescribePendingMaintenanceActionsMessage) throws -> DescribePendingMaintenanceActionsResponse {
        if let arn = input.ReplicationInstanceArn { _ = try instance(arn) }
        _ = try FilterSet(input.Filters, allowed: ["replication-instance-arn"])
        _ = try Page(marker: input.Marker, maxRecords: input.MaxRecords)
        return DescribePendingMaintenanceActionsResponse(PendingMaintenanceActions: [])
    }
}
