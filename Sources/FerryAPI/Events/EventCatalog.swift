/// DMS's event categories and event ids, in one place.
enum EventCatalog {
    /// The categories of each source type, as DescribeEventCategories returns them; `alarm` is Ferry's own
    /// (a latency or retained-log threshold crossed, and its recovery).
    static let categories: [(sourceType: String, categories: [String])] = [
        ("replication-instance", ["low storage", "configuration change", "maintenance", "deletion", "creation", "failover", "failure"]),
        ("replication-task", ["state change", "configuration change", "deletion", "creation", "failure", "alarm"]),
    ]

    /// DMS's event id for a task or instance message Ferry records, by how the message begins.
    static let ids: [(prefix: String, id: String)] = [
        ("Replication task has started", "DMS-EVENT-0069"),
        ("Replication task has stopped", "DMS-EVENT-0079"),
        ("Replication task has failed", "DMS-EVENT-0078"),
        ("Replication task has been created", "DMS-EVENT-0074"),
        ("Replication task has been deleted", "DMS-EVENT-0073"),
        ("Replication task has been modified", "DMS-EVENT-0080"),
        ("Replication application instance created", "DMS-EVENT-0005"),
        ("Replication application instance deleted", "DMS-EVENT-0003"),
    ]

    static func eventID(_ message: String) -> String? {
        ids.first { message.hasPrefix($0.prefix) }?.id
    }

    /// EventBridge's `detail-type` for a source type.
    static func detailType(_ sourceType: String) -> String {
        sourceType == "replication-instance" ? "DMS Replication Instance State Change" : "DMS Replication Task State Change"
    }
}
