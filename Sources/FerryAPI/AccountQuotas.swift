import FerryCatalog
import FerryCore

/// The quotas DescribeAccountAttributes reports and the create operations enforce, by DMS's names and with
/// DMS's default values; `ferry serve --quota NAME=MAX` changes one. They keep a runaway script from filling
/// the catalog. Resources a cutover makes for itself (its reverse task and endpoints) are never refused.
public struct AccountQuotas: Sendable {
    /// The quotas in the order DescribeAccountAttributes lists them, with DMS's default maximums.
    public static let defaults: [(name: String, max: Int)] = [
        ("ReplicationInstances", 60), ("AllocatedStorage", 30_000), ("Endpoints", 1000), ("ReplicationTasks", 600),
        ("Certificates", 100), ("EventSubscriptions", 60), ("ReplicationSubnetGroups", 60), ("SubnetsPerReplicationSubnetGroup", 60),
    ]

    /// The maximum of each quota.
    public private(set) var maximums: [String: Int] = Dictionary(uniqueKeysWithValues: defaults.map { ($0.name, $0.max) })

    public init() {}

    /// Sets one quota from `NAME=MAX`; an unknown name or a maximum below 1 is an error naming `field`.
    public mutating func set(_ text: String, field: String) throws {
        let parts = text.split(separator: "=", maxSplits: 1).map(String.init)
        guard parts.count == 2, maximums[parts[0]] != nil else {
            throw FerryError.invalidParameter(field, "expected NAME=MAX with NAME one of \(Self.defaults.map(\.name).joined(separator: ", ")); got '\(text)'")
        }
        guard let max = Int(parts[1]), max >= 1 else {
            throw FerryError.invalidParameter(field, "\(parts[0])'s maximum must be a whole number of 1 or more; got '\(parts[1])'")
        }
        maximums[parts[0]] = max
    }

    /// Refuses a change that would take quota `name` from `used` to `used + adding`, with DMS's fault.
    func check(_ name: String, used: Int, adding: Int = 1) throws {
        let max = maximums[name] ?? .max
        guard used + adding <= max else {
            throw DMSError("ResourceQuotaExceededFault", "Quota \(name) is \(max), and \(used) are in use: this would make \(used + adding). "
                + "Delete some, or raise it with ferry serve --quota \(name)=N.")
        }
    }
}

extension DMSService {
    /// The catalog kind each counted quota counts.
    static let quotaKinds: [String: Catalog.Kind] = [
        "ReplicationInstances": .instance, "Endpoints": .endpoint, "ReplicationTasks": .task, "Certificates": .certificate,
        "EventSubscriptions": .eventSubscription, "ReplicationSubnetGroups": .subnetGroup,
    ]

    /// Refuses one more resource counted by quota `name`.
    func checkQuota(_ name: String) throws {
        try quotas.check(name, used: try catalog.count(Self.quotaKinds[name]!))
    }

    /// Refuses instances' storage beyond AllocatedStorage: `adding` GB more than the instances hold now.
    func checkStorageQuota(adding: Int) throws {
        try quotas.check("AllocatedStorage", used: try usedStorage(), adding: adding)
    }

    private func usedStorage() throws -> Int {
        try catalog.list(.instance, as: ReplicationInstance.self).reduce(0) { $0 + ($1.AllocatedStorage ?? 0) }
    }

    func describeAccountAttributes(_ input: DescribeAccountAttributesMessage) throws -> DescribeAccountAttributesResponse {
        let groups = try catalog.list(.subnetGroup, as: ReplicationSubnetGroup.self)
        let quotas = try AccountQuotas.defaults.map { quota in
            let used: Int
            switch quota.name {
            case "AllocatedStorage": used = try usedStorage()
            case "SubnetsPerReplicationSubnetGroup": used = groups.map { $0.Subnets?.count ?? 0 }.max() ?? 0
            default: used = try catalog.count(Self.quotaKinds[quota.name]!)
            }
            return AccountQuota(AccountQuotaName: quota.name, Used: used, Max: self.quotas.maximums[quota.name])
        }
        return DescribeAccountAttributesResponse(AccountQuotas: quotas, UniqueAccountIdentifier: "c" + String(accountID.suffix(11)))
    }
}
