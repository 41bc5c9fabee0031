import FerryCatalog
import Foundation

/// A replication instance is a named worker in this server; its class sets how many tables it loads at once.
enum InstanceClass {
    /// The engine version instances report when the caller names none (DescribeEngineVersions lists it).
    static let engineVersion = "3.5.3"
    /// DMS's storage bounds and default, in GB; storage has no effect here.
    static let storage = (minimum: 5, maximum: 6144, standard: 50)
    /// The classes DescribeOrderableReplicationInstances offers (any dms.<family>.<size> is accepted).
    static let offered = (["t3.micro", "t3.small", "t3.medium", "t3.large"]
        + ["c5", "r5"].flatMap { family in ["large", "xlarge", "2xlarge", "4xlarge", "9xlarge", "12xlarge", "18xlarge", "24xlarge"].map { "\(family).\($0)" } })
        .map { "dms.\($0)" }

    /// The security groups an instance reports for the ids it was given, each `active` as DMS shows them;
    /// stored for tools that read them back, with no network effect.
    static func securityGroups(_ ids: [String]?) -> [VpcSecurityGroupMembership]? {
        ids.map { $0.map { VpcSecurityGroupMembership(VpcSecurityGroupId: $0, Status: "active") } }
    }

    /// Tables (or chunks) an instance of this class loads at once.
    static func parallelism(_ instanceClass: String) throws -> Int {
        let parts = instanceClass.split(separator: ".")
        guard parts.count == 3, parts[0] == "dms" else {
            throw DMSError.invalidParameter("ReplicationInstanceClass '\(instanceClass)' is not a class such as dms.t3.medium.")
        }
        switch parts[2] {
        case "micro": return 2
        case "small": return 4
        case "medium", "large": return 8
        case "xlarge": return 16
        case "2xlarge": return 24
        default:
            guard parts[2].hasSuffix("xlarge"), Int(parts[2].dropLast(6)) != nil else {
                throw DMSError.invalidParameter("ReplicationInstanceClass '\(instanceClass)' has an unknown size '\(parts[2])'.")
            }
            return 32
        }
    }
}

extension DMSService {
    func instance(_ arn: String?) throws -> ReplicationInstance {
        guard let arn, let instance = try catalog.get(.instance, arn: arn, as: ReplicationInstance.self) else {
            throw DMSError.notFound("Replication instance \(arn ?? "") not found.")
        }
        return instance
    }

    func createInstance(_ input: CreateReplicationInstanceMessage, _ context: RequestContext) throws -> CreateReplicationInstanceResponse {
        let identifier = (input.ReplicationInstanceIdentifier ?? "").lowercased()
        try ResourceNames.validate(identifier, field: "ReplicationInstanceIdentifier", maxLength: 63)
        let instanceClass = input.ReplicationInstanceClass ?? ""
        _ = try InstanceClass.parallelism(instanceClass)
        if let storage = input.AllocatedStorage, !(InstanceClass.storage.minimum...InstanceClass.storage.maximum).contains(storage) {
            throw DMSError.invalidParameter("AllocatedStorage must be between \(InstanceClass.storage.minimum) and \(InstanceClass.storage.maximum) GB; got \(storage).")
        }
        let subnetGroup = try input.ReplicationSubnetGroupIdentifier.map { try self.subnetGroup($0, context) }
        let id = input.ResourceIdentifier ?? ResourceNames.randomID()
        let arn = ResourceNames.arn(region: context.region, account: context.account, type: "rep", id: id)
        var instance = ReplicationInstance(
            ReplicationInstanceIdentifier: identifier, ReplicationInstanceClass: instanceClass,
            ReplicationInstanceStatus: "available", AllocatedStorage: input.AllocatedStorage ?? InstanceClass.storage.standard, InstanceCreateTime: Date(),
            AvailabilityZone: input.AvailabilityZone ?? "\(context.region)a",
            PreferredMaintenanceWindow: input.PreferredMaintenanceWindow ?? "sun:06:00-sun:06:30",
            MultiAZ: input.MultiAZ ?? false, EngineVersion: input.EngineVersion ?? InstanceClass.engineVersion,
            AutoMinorVersionUpgrade: input.AutoMinorVersionUpgrade ?? true, KmsKeyId: input.KmsKeyId,
            ReplicationInstanceArn: arn, ReplicationInstancePublicIpAddress: nil,
            ReplicationInstancePrivateIpAddress: "127.0.0.1", ReplicationInstancePrivateIpAddresses: ["127.0.0.1"],
            PubliclyAccessible: input.PubliclyAccessible ?? false, DnsNameServers: input.DnsNameServers,
            NetworkType: input.NetworkType ?? "IPV4")
        instance.ReplicationSubnetGroup = subnetGroup
        instance.VpcSecurityGroups = InstanceClass.securityGroups(input.VpcSecurityGroupIds)
        try checkQuota("ReplicationInstances")
        try checkStorageQuota(adding: instance.AllocatedStorage ?? 0)
        // An instance is a worker inside this server: it is ready as soon as it is stored.
        try insert(.instance, arn: arn, identifier: identifier, instance)
        try storeTags(input.Tags, for: arn)
        event(identifier, type: "replication-instance", "Replication application instance created.", categories: ["creation"])
        instance.ReplicationInstanceStatus = "creating"
        return CreateReplicationInstanceResponse(ReplicationInstance: instance)
    }

    func describeInstances(_ input: DescribeReplicationInstancesMessage) throws -> DescribeReplicationInstancesResponse {
        let filters = try FilterSet(input.Filters, allowed: ["replication-instance-arn", "replication-instance-id", "replication-instance-class", "engine-version"])
        let (items, marker) = try describe(try catalog.list(.instance, as: ReplicationInstance.self), filters: filters,
                                           page: try Page(marker: input.Marker, maxRecords: input.MaxRecords),
                                           noneFound: "No replication instances found matching provided filters") { instance, name in
            switch name {
            case "replication-instance-arn": return instance.ReplicationInstanceArn
            case "replication-instance-id": return instance.ReplicationInstanceIdentifier
            case "replication-instance-class": return instance.ReplicationInstanceClass
            default: return instance.EngineVersion
            }
        }
        return DescribeReplicationInstancesResponse(Marker: marker, ReplicationInstances: items)
    }

    func modifyInstance(_ input: ModifyReplicationInstanceMessage) throws -> ModifyReplicationInstanceResponse {
        var instance = try instance(input.ReplicationInstanceArn)
        if let instanceClass = input.ReplicationInstanceClass {
            _ = try InstanceClass.parallelism(instanceClass)
            instance.ReplicationInstanceClass = instanceClass
        }
        if let storage = input.AllocatedStorage {
            guard storage >= (instance.AllocatedStorage ?? InstanceClass.storage.minimum), storage <= InstanceClass.storage.maximum else {
                throw DMSError.invalidParameter("AllocatedStorage can only grow, up to \(InstanceClass.storage.maximum) GB; got \(storage).")
            }
            try checkStorageQuota(adding: storage - (instance.AllocatedStorage ?? 0))
            instance.AllocatedStorage = storage
        }
        if let identifier = input.ReplicationInstanceIdentifier?.lowercased() {
            try ResourceNames.validate(identifier, field: "ReplicationInstanceIdentifier", maxLength: 63)
            instance.ReplicationInstanceIdentifier = identifier
        }
        instance.MultiAZ = input.MultiAZ ?? instance.MultiAZ
        instance.EngineVersion = input.EngineVersion ?? instance.EngineVersion
        instance.AutoMinorVersionUpgrade = input.AutoMinorVersionUpgrade ?? instance.AutoMinorVersionUpgrade
        instance.PreferredMaintenanceWindow = input.PreferredMaintenanceWindow ?? instance.PreferredMaintenanceWindow
        instance.NetworkType = input.NetworkType ?? instance.NetworkType
        if let groups = input.VpcSecurityGroupIds { instance.VpcSecurityGroups = InstanceClass.securityGroups(groups) }
        do {
            try catalog.update(.instance, arn: instance.ReplicationInstanceArn!, identifier: instance.ReplicationInstanceIdentifier!, instance)
        } catch CatalogError.alreadyExists {
            throw DMSError.alreadyExists("Replication instance '\(instance.ReplicationInstanceIdentifier!)' already exists.")
        }
        return ModifyReplicationInstanceResponse(ReplicationInstance: instance)
    }

    func deleteInstance(_ input: DeleteReplicationInstanceMessage) throws -> DeleteReplicationInstanceResponse {
        var instance = try instance(input.ReplicationInstanceArn)
        let arn = instance.ReplicationInstanceArn!
        let tasks = try catalog.list(.task, as: ReplicationTask.self).filter { $0.ReplicationInstanceArn == arn }
        guard tasks.isEmpty else {
            throw DMSError.invalidState("Replication instance \(instance.ReplicationInstanceIdentifier!) has replication task(s) \(tasks.compactMap(\.ReplicationTaskIdentifier).joined(separator: ", ")); delete them first.")
        }
        try catalog.delete(arn: arn)
        for connection in try catalog.list(.connection, as: Connection.self) where connection.ReplicationInstanceArn == arn {
            try catalog.delete(arn: Self.connectionKey(arn, connection.EndpointArn ?? ""))
        }
        event(instance.ReplicationInstanceIdentifier!, type: "replication-instance", "Replication application instance deleted.", categories: ["deletion"])
        instance.ReplicationInstanceStatus = "deleting"
        return DeleteReplicationInstanceResponse(ReplicationInstance: instance)
    }
}
