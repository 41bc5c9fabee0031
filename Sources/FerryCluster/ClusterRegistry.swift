import FerryCatalog
import FerryCore
import Foundation

/// A task a node took: the epoch its claim raised to.
public struct TaskClaim: Sendable, Equatable {
    public var taskArn: String
    public var epoch: Int64
    /// The node that held it before: its lease ran out, or it gave the task up (nil for a task nobody held).
    public var previousNode: String?
    /// How to start a task StartReplicationTask left for another node (`start-replication`…); nil for a
    /// task that ran before, which resumes.
    public var startType: String?

    public init(taskArn: String, epoch: Int64, previousNode: String?, startType: String? = nil) {
        self.taskArn = taskArn
        self.epoch = epoch
        self.previousNode = previousNode
        self.startType = startType
    }
}

/// A request for a running task that reached another node than the one running it.
public struct TaskRequest: Sendable, Equatable {
    public enum Kind: String, Sendable {
        case stop, reload, revalidate
        /// Give the task up to another node (RebootReplicationInstance with a failover); the body says how
        /// long its node stays out of the way, in seconds.
        case move
    }
    public var taskArn: String
    public var kind: Kind
    /// The request's details (the tables to reload, as JSON).
    public var body: String

    public init(taskArn: String, kind: Kind, body: String) {
        self.taskArn = taskArn
        self.kind = kind
        self.body = body
    }
}

/// A node as the catalog knows it.
public struct ClusterNodeRecord: Sendable, Equatable {
    public var nodeID: String
    public var address: String
    public var startedAt: Date
    /// Seconds until its lease runs out, by the catalog's clock (negative once it has).
    public var leaseRemaining: Double
    public var draining: Bool
    /// The tasks it holds.
    public var tasks: Int
}

/// The cluster's tables in the catalog: nodes and their leases, task claims and their epochs, and
/// requests for a task another node runs. Every decision about time uses the catalog's clock, so nodes'
/// clocks need not agree. The SQLite store has one node; the same statements hold there.
public struct ClusterRegistry: Sendable {
    let store: any CatalogStore
    /// The lease's timings.
    public let policy: LeasePolicy

    public init(catalog: Catalog, policy: LeasePolicy = LeasePolicy()) {
        store = catalog.store
        self.policy = policy
    }

    private var now: String { store.dialect.now }

    /// Records the node with a fresh lease; returns false when its row was gone (it was declared dead and
    /// removed, or this is its first renewal).
    @discardableResult
    public func renew(node: String, address: String) throws -> Bool {
        try store.write { db in
            let renewed = try db.execute("UPDATE cluster_nodes SET lease_expires_at = \(now) + ? WHERE node_id = ?", [policy.leaseSeconds, node])
            if renewed == 0 {
                try db.execute("INSERT INTO cluster_nodes (node_id, address, started_at, lease_expires_at) VALUES (?, ?, \(now), \(now) + ?)",
                               [node, address, policy.leaseSeconds])
            }
            return renewed > 0
        }
    }

    /// Forgets every other node: an embedded catalog has one server, so a node left in it is this server
    /// before a restart (under another name when its port changed); its tasks wait to be claimed at once.
    public func forgetOtherNodes(than node: String) throws {
        try store.write { db in
            try db.execute("UPDATE task_claims SET node_id = NULL, last_node = NULL, avoid_until = NULL WHERE node_id IS NULL OR node_id <> ?", [node])
            try db.execute("DELETE FROM cluster_nodes WHERE node_id <> ?", [node])
        }
    }

    /// Leaves the cluster: the node's claims go back to waiting, so other nodes take them at their next round.
    public func leave(node: String) throws {
        try store.write { db in
            try db.execute("UPDATE task_claims SET node_id = NULL, last_node = ? WHERE node_id = ?", [node, node])
            try db.execute("DELETE FROM cluster_nodes WHERE node_id = ?", [node])
        }
    }

    public func setDraining(node: String) throws {
        try store.write { db in try db.execute("UPDATE cluster_nodes SET draining = 1 WHERE node_id = ?", [node]) }
    }

    /// Every node the catalog knows, with its lease and how many tasks it holds.
    public func nodes() throws -> [ClusterNodeRecord] {
        try store.read { db in
            try db.rows("""
                SELECT n.node_id, n.address, n.started_at, n.lease_expires_at - \(now) AS remaining, n.draining,
                  (SELECT count(*) FROM task_claims c WHERE c.node_id = n.node_id) AS tasks
                FROM cluster_nodes n ORDER BY n.started_at, n.node_id
                """, []).map { row in
                ClusterNodeRecord(nodeID: try row.string("node_id"), address: try row.string("address"), startedAt: try row.date("started_at"),
                                  leaseRemaining: try row.double("remaining"), draining: try row.bool("draining"), tasks: try row.int("tasks"))
            }
        }
    }

    /// Marks a task as wanted running, waiting for a node to take it: one StartReplicationTask leaves to
    /// a node with fewer tasks (`startType` says how to start it), or a task found running after a restart
    /// that has no claim yet (a catalog older than the cluster's tables).
    public func want(task: String, startType: String? = nil) throws {
        try store.write { db in
            try db.execute("INSERT INTO task_claims (task_arn, wanted_since, start_type) VALUES (?, \(now), ?) ON CONFLICT (task_arn) DO NOTHING",
                           [task, startType])
        }
    }

    /// Marks a task as wanted running and takes it for `node` at once, raising its epoch. Returns nil when
    /// a live node holds it already.
    public func claim(task: String, node: String) throws -> TaskClaim? {
        try store.write { db in
            try db.execute("INSERT INTO task_claims (task_arn, wanted_since) VALUES (?, \(now)) ON CONFLICT (task_arn) DO NOTHING", [task])
            let rows = try db.rows("""
                SELECT c.task_arn, c.node_id, c.last_node, c.epoch, c.start_type FROM task_claims c WHERE c.task_arn = ? AND (c.node_id IS NULL OR c.node_id = ?
                  OR NOT EXISTS (SELECT 1 FROM cluster_nodes n WHERE n.node_id = c.node_id AND n.lease_expires_at > \(now)))\(store.dialect.forUpdate)
                """, [task, node])
            return try rows.first.map { try take($0, node: node, db) }
        }
    }

    /// Gives a task back to waiting, if `node` still holds it at `epoch`; with `avoiding`, `node` itself
    /// does not take it again for that many seconds, so another node does (a failover).
    public func release(task: String, node: String, epoch: Int64, avoiding seconds: Double = 0) throws {
        try store.write { db in
            try db.execute("""
                UPDATE task_claims SET node_id = NULL, last_node = ?, avoid_until = \(now) + ? WHERE task_arn = ? AND node_id = ? AND epoch = ?
                """, [node, seconds, task, node, epoch])
        }
    }

    /// Takes up to `limit` waiting tasks (nobody holds them, or their node's lease ran out), oldest first;
    /// rows another node is taking at this moment are passed over, not waited for, and so are tasks this
    /// node gave up to be taken by another.
    public func claimWaiting(node: String, limit: Int) throws -> [TaskClaim] {
        guard limit > 0 else { return [] }
        return try store.write { db in
            let rows = try db.rows("""
                SELECT c.task_arn, c.node_id, c.last_node, c.epoch, c.start_type FROM task_claims c
                WHERE (c.node_id IS NULL OR (c.node_id <> ?
                  AND NOT EXISTS (SELECT 1 FROM cluster_nodes n WHERE n.node_id = c.node_id AND n.lease_expires_at > \(now))))
                  AND (coalesce(c.avoid_until, 0) <= \(now) OR c.last_node <> ?)
                ORDER BY c.wanted_since, c.task_arn LIMIT ?\(store.dialect.forUpdateSkipLocked)
                """, [node, node, limit])
            return try rows.map { try take($0, node: node, db) }
        }
    }

    private func take(_ row: CatalogRow, node: String, _ db: any CatalogTransaction) throws -> TaskClaim {
        let arn = try row.string("task_arn"), epoch = try row.int64("epoch") + 1
        try db.execute("""
            UPDATE task_claims SET node_id = ?, epoch = ?, claimed_at = \(now), avoid_until = NULL, start_type = NULL WHERE task_arn = ?
            """, [node, epoch, arn])
        let previous = try row.optionalString("node_id") ?? row.optionalString("last_node")
        return TaskClaim(taskArn: arn, epoch: epoch, previousNode: previous == node ? nil : previous, startType: try row.optionalString("start_type"))
    }

    /// The claims `node` holds in the catalog.
    public func claims(of node: String) throws -> [TaskClaim] {
        try store.read { db in
            try db.rows("SELECT task_arn, epoch FROM task_claims WHERE node_id = ? ORDER BY task_arn", [node]).map {
                TaskClaim(taskArn: try $0.string("task_arn"), epoch: try $0.int64("epoch"), previousNode: nil)
            }
        }
    }

    /// How many tasks are wanted running in all, and how many `node` holds.
    public func load(node: String) throws -> (total: Int, mine: Int, liveNodes: Int) {
        try store.read { db in
            let row = try db.row("""
                SELECT (SELECT count(*) FROM task_claims) AS total, (SELECT count(*) FROM task_claims WHERE node_id = ?) AS mine,
                  (SELECT count(*) FROM cluster_nodes WHERE lease_expires_at > \(now) AND draining = 0) AS live
                """, [node])
            return (try row?.int("total") ?? 0, try row?.int("mine") ?? 0, try row?.int("live") ?? 1)
        }
    }

    /// Whether `node` still holds the task at `epoch` (a node that lost it writes nothing more about it).
    public func holds(task: String, node: String, epoch: Int64) throws -> Bool {
        try store.read { db in
            try db.exists("SELECT 1 FROM task_claims WHERE task_arn = ? AND node_id = ? AND epoch = ?", [task, node, epoch])
        }
    }

    /// The node holding a task, when its lease is alive.
    public func owner(of task: String) throws -> String? {
        try store.read { db in
            try db.row("""
                SELECT c.node_id FROM task_claims c JOIN cluster_nodes n ON n.node_id = c.node_id
                WHERE c.task_arn = ? AND n.lease_expires_at > \(now)
                """, [task])?.string("node_id")
        }
    }

    /// The task is no longer wanted running (it stopped, failed or finished): its claim goes, if `node`
    /// still holds it at `epoch`.
    public func finish(task: String, node: String, epoch: Int64) throws {
        try store.write { db in
            try db.execute("DELETE FROM task_claims WHERE task_arn = ? AND node_id = ? AND epoch = ?", [task, node, epoch])
            try db.execute("DELETE FROM task_requests WHERE task_arn = ?", [task])
        }
    }

    /// Drops the claim of a task no live node holds (it waits to move); returns false when a live node
    /// holds it.
    public func cancelWaiting(task: String) throws -> Bool {
        try store.write { db in
            try db.execute("""
                DELETE FROM task_claims WHERE task_arn = ? AND (node_id IS NULL
                  OR NOT EXISTS (SELECT 1 FROM cluster_nodes n WHERE n.node_id = task_claims.node_id AND n.lease_expires_at > \(now)))
                """, [task]) > 0
        }
    }

    /// Leaves a request for the node running `task`.
    public func post(_ request: TaskRequest) throws {
        try store.write { db in
            try db.execute("INSERT INTO task_requests (task_arn, kind, body, at) VALUES (?, ?, ?, \(now))",
                           [request.taskArn, request.kind.rawValue, request.body])
        }
    }

    /// Takes the requests for the tasks `node` holds, oldest first.
    public func takeRequests(node: String) throws -> [TaskRequest] {
        try store.write { db in
            let rows = try db.rows("""
                SELECT r.id, r.task_arn, r.kind, r.body FROM task_requests r JOIN task_claims c ON c.task_arn = r.task_arn
                WHERE c.node_id = ? ORDER BY r.id
                """, [node])
            for row in rows { try db.execute("DELETE FROM task_requests WHERE id = ?", [try row.int64("id")]) }
            return try rows.compactMap { row -> TaskRequest? in
                guard let kind = TaskRequest.Kind(rawValue: try row.string("kind")) else { return nil }
                return TaskRequest(taskArn: try row.string("task_arn"), kind: kind, body: try row.string("body"))
            }
        }
    }
}

/// This server as a node of the cluster: its name, where its API listens, the registry it renews its
/// lease in, and until when it may write by that lease.
public struct ClusterNodeIdentity: Sendable {
    public var id: String
    public var address: String
    public var registry: ClusterRegistry
    /// Renewed with the lease; it stops the node's writes ``LeasePolicy/stopApplyingAfter`` after the last renewal.
    public let lease: WriteLease

    public init(id: String, address: String, registry: ClusterRegistry) {
        self.id = id
        self.address = address
        self.registry = registry
        lease = WriteLease(writesFor: registry.policy.stopApplyingAfter)
    }
}
