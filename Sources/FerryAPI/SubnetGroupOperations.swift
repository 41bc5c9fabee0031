import FerryCatalog
import Foundation

/// Replication subnet groups, stored and checked as DMS checks them, so that tools which make one before
/// an instance (Terraform, CDK) work. Ferry has no VPC: a subnet is known by its id's form only, and has no
/// network effect (docs/api.md).
extension DMSService {
    /// The identifier DMS reserves for the default VPC's group.
    static let reservedSubnetGroup = "default"
    /// The VPC every group reports: Ferry's subnets belong to none.
    static let subnetGroupVpc = "vpc-ferry"

    /// DMS's ARN of a group (`…:subgrp:<identifier>`), which tagging names it by.
    func subnetGroupArn(_ identifier: String, _ context: RequestContext) -> String {
        ResourceNames.arn(region: context.region, account: context.account, type: "subgrp", id: identifier)
    }

    func subnetGroup(_ identifier: String?, _ context: RequestContext) throws -> ReplicationSubnetGroup {
        let identifier = (identifier ?? "").lowercased()
        guard !identifier.isEmpty, let group = try catalog.get(.subnetGroup, arn: subnetGroupArn(identifier, context), as: ReplicationSubnetGroup.self) else {
            throw DMSError.notFound("Replication subnet group '\(identifier)' not found.")
        }
        return group
    }

    /// DMS's identifier rule: up to 255 letters, digits, periods, underscores, spaces or hyphens; not `default`.
    private func checkSubnetGroupIdentifier(_ identifier: String) throws {
        guard !identifier.isEmpty, identifier.count <= 255,
              identifier.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || ". _-".contains($0)) }) else {
            throw DMSError.invalidParameter("ReplicationSubnetGroupIdentifier must be 1 to 255 letters, digits, periods, underscores, spaces or hyphens; got '\(identifier)'.")
        }
        guard identifier != Self.reservedSubnetGroup else {
            throw DMSError.invalidParameter("ReplicationSubnetGroupIdentifier cannot be '\(Self.reservedSubnetGroup)'.")
        }
    }

    /// The subnets, each in the next of the region's zones (`<region>a`, `b`, …): DMS wants two zones at least.
    private func subnets(_ ids: [String]?, _ context: RequestContext) throws -> [Subnet] {
        let ids = (ids ?? []).reduce(into: [String]()) { unique, id in if !unique.contains(id) { unique.append(id) } }
        for id in ids {
            let hex = id.dropFirst("subnet-".count)
            guard id.hasPrefix("subnet-"), [8, 17].contains(hex.count), hex.allSatisfy(\.isHexDigit) else {
                throw DMSError("InvalidSubnet", "SubnetIds: '\(id)' is not a subnet id (subnet- and 8 or 17 hexadecimal digits).")
            }
        }
        try quotas.check("SubnetsPerReplicationSubnetGroup", used: 0, adding: ids.count)
        guard ids.count >= 2 else {
            throw DMSError("ReplicationSubnetGroupDoesNotCoverEnoughAZs",
                           "The replication subnet group does not cover enough Availability Zones (AZs): give two subnets at least; got \(ids.count).")
        }
        let zones = Array("abcdef")
        return ids.enumerated().map { index, id in
            Subnet(SubnetIdentifier: id, SubnetAvailabilityZone: AvailabilityZone(Name: "\(context.region)\(zones[index % zones.count])"), SubnetStatus: "Active")
        }
    }

    func createSubnetGroup(_ input: CreateReplicationSubnetGroupMessage, _ context: RequestContext) throws -> CreateReplicationSubnetGroupResponse {
        let identifier = (input.ReplicationSubnetGroupIdentifier ?? "").lowercased()
        try checkSubnetGroupIdentifier(identifier)
        guard let description = input.ReplicationSubnetGroupDescription, !description.isEmpty else {
            throw DMSError.invalidParameter("ReplicationSubnetGroupDescription is required.")
        }
        let group = ReplicationSubnetGroup(ReplicationSubnetGroupIdentifier: identifier, ReplicationSubnetGroupDescription: description,
                                           VpcId: Self.subnetGroupVpc, SubnetGroupStatus: "Complete", Subnets: try subnets(input.SubnetIds, context),
                                           SupportedNetworkTypes: ["IPV4"], IsReadOnly: false)
        let arn = subnetGroupArn(identifier, context)
        try checkQuota("ReplicationSubnetGroups")
        try insert(.subnetGroup, arn: arn, identifier: identifier, group)
        try storeTags(input.Tags, for: arn)
        return CreateReplicationSubnetGroupResponse(ReplicationSubnetGroup: group)
    }

    func describeSubnetGroups(_ input: DescribeReplicationSubnetGroupsMessage) throws -> DescribeReplicationSubnetGroupsResponse {
        let filters = try FilterSet(input.Filters, allowed: ["replication-subnet-group-id"])
        let (groups, marker) = try describe(try catalog.list(.subnetGroup, as: ReplicationSubnetGroup.self), filters: filters,
                                            page: try Page(marker: input.Marker, maxRecords: input.MaxRecords),
                                            noneFound: "No replication subnet groups found matching provided filters") { group, _ in
            group.ReplicationSubnetGroupIdentifier
        }
        return DescribeReplicationSubnetGroupsResponse(Marker: marker, ReplicationSubnetGroups: groups)
    }

    func modifySubnetGroup(_ input: ModifyReplicationSubnetGroupMessage, _ context: RequestContext) throws -> ModifyReplicationSubnetGroupResponse {
        var group = try subnetGroup(input.ReplicationSubnetGroupIdentifier, context)
        group.Subnets = try subnets(input.SubnetIds, context)
        if let description = input.ReplicationSubnetGroupDescription { group.ReplicationSubnetGroupDescription = description }
        try catalog.update(.subnetGroup, arn: subnetGroupArn(group.ReplicationSubnetGroupIdentifier!, context),
                           identifier: group.ReplicationSubnetGroupIdentifier!, group)
        return ModifyReplicationSubnetGroupResponse(ReplicationSubnetGroup: group)
    }

    func deleteSubnetGroup(_ input: DeleteReplicationSubnetGroupMessage, _ context: RequestContext) throws -> DeleteReplicationSubnetGroupResponse {
        let group = try subnetGroup(input.ReplicationSubnetGroupIdentifier, context)
        let identifier = group.ReplicationSubnetGroupIdentifier!
        if let user = try catalog.list(.instance, as: ReplicationInstance.self).first(where: { $0.ReplicationSubnetGroup?.ReplicationSubnetGroupIdentifier == identifier }) {
            throw DMSError.invalidState("Replication subnet group '\(identifier)' is in use by replication instance \(user.ReplicationInstanceIdentifier ?? "").")
        }
        try catalog.delete(arn: subnetGroupArn(identifier, context))
        return DeleteReplicationSubnetGroupResponse()
    }
}
