/// A figure Ferry records: its Prometheus name (the unit in the name, `_total` for counters), its kind,
/// the labels it carries beyond `task` and `replication_instance`, and the DMS metric it stands for.
/// ``FerryMetric`` lists them all; docs/metrics.md documents each.
public struct MetricDefinition: Sendable, Hashable {
    public enum Kind: String, Sendable {
        case counter, gauge
    }

    public let name: String
    public let kind: Kind
    /// Labels after the task's own.
    public let labels: [String]
    /// The CloudWatch metric of namespace `AWS/DMS` this figure feeds, if DMS has one.
    public let dmsName: String?
    /// How the CloudWatch-compatible API serves it, for the figures it serves.
    public let cloudWatch: CloudWatchForm?

    init(_ name: String, _ kind: Kind, labels: [String] = [], dms: String? = nil, cloudWatch: CloudWatchForm? = nil) {
        self.name = name
        self.kind = kind
        self.labels = labels
        dmsName = dms
        self.cloudWatch = cloudWatch
    }
}

/// How a figure becomes DMS's CloudWatch metric: its unit (CloudWatch's StandardUnit) and whether each
/// datapoint is the value recorded, a counter's increase per second, or its increase.
public struct CloudWatchForm: Sendable, Hashable {
    public enum Reading: Sendable, Hashable {
        case value, perSecond, increase
    }

    public let unit: String
    public let reading: Reading

    init(_ unit: String, _ reading: Reading) {
        self.unit = unit
        self.reading = reading
    }
}

/// Every figure Ferry records, in one place.
public enum FerryMetric {
    /// 1 for each task, with what it moves: `task_id`, `migration_type`, `source_engine`, `target_engine`.
    public static let taskInfo = MetricDefinition("ferry_task_info", .gauge, labels: ["task_id", "migration_type", "source_engine", "target_engine"])
    /// 1 for the task's status (DMS's: starting, running, stopping, stopped, failed…), 0 for the others.
    public static let taskStatus = MetricDefinition("ferry_task_status", .gauge, labels: ["status"])
    public static let fullLoadRows = MetricDefinition("ferry_full_load_rows_total", .counter, dms: "FullLoadThroughputRowsTarget",
                                                      cloudWatch: CloudWatchForm("Count/Second", .perSecond))
    public static let fullLoadProgress = MetricDefinition("ferry_full_load_progress_ratio", .gauge)
    /// Tables by load state: queued, loading, loaded, errored.
    public static let tables = MetricDefinition("ferry_tables", .gauge, labels: ["state"])
    public static let tableRowsLoaded = MetricDefinition("ferry_table_rows_loaded_total", .counter, labels: ["schema", "table"])
    public static let tableRefusedRows = MetricDefinition("ferry_table_refused_rows_total", .counter, labels: ["schema", "table"])
    public static let cdcChangesApplied = MetricDefinition("ferry_cdc_changes_applied_total", .counter, dms: "CDCThroughputRowsTarget",
                                                           cloudWatch: CloudWatchForm("Count/Second", .perSecond))
    public static let cdcTransactionsApplied = MetricDefinition("ferry_cdc_transactions_applied_total", .counter)
    public static let cdcIncomingChanges = MetricDefinition("ferry_cdc_incoming_changes", .gauge, dms: "CDCIncomingChanges", cloudWatch: CloudWatchForm("Count", .value))
    public static let cdcSourceLatency = MetricDefinition("ferry_cdc_source_latency_seconds", .gauge, dms: "CDCLatencySource", cloudWatch: CloudWatchForm("Seconds", .value))
    public static let cdcTargetLatency = MetricDefinition("ferry_cdc_target_latency_seconds", .gauge, dms: "CDCLatencyTarget", cloudWatch: CloudWatchForm("Seconds", .value))
    /// A stream marker's trip from the source to the target's applied position (Ferry's own lag).
    public static let cdcMarkerRoundTrip = MetricDefinition("ferry_cdc_marker_round_trip_seconds", .gauge)
    /// WAL or binlog the source keeps for the task.
    public static let cdcRetainedLog = MetricDefinition("ferry_cdc_retained_log_bytes", .gauge)
    public static let cdcReconnects = MetricDefinition("ferry_cdc_reconnects_total", .counter, dms: "RecoveryCount", cloudWatch: CloudWatchForm("Count", .increase))
    /// Changes applied per table and operation (insert, update, delete, truncate).
    public static let tableChanges = MetricDefinition("ferry_table_changes_total", .counter, labels: ["schema", "table", "operation"])
    public static let tableDDLs = MetricDefinition("ferry_table_ddls_total", .counter, labels: ["schema", "table"])
    /// 1 while a table's changes are no longer applied (a column type changed).
    public static let tableSuspended = MetricDefinition("ferry_table_suspended", .gauge, labels: ["schema", "table"])
    /// Rows that differ after the last validation of a table.
    public static let tableValidationFailedRows = MetricDefinition("ferry_table_validation_failed_rows", .gauge, labels: ["schema", "table"],
                                                                   dms: "ValidationFailedOverallCount")
    public static let tableValidationSuspendedRows = MetricDefinition("ferry_table_validation_suspended_rows", .gauge, labels: ["schema", "table"],
                                                                      dms: "ValidationSuspendedOverallCount")

    /// The process's own figures, labelled `node` (the host's name) only.
    public static let processCPU = MetricDefinition("ferry_process_cpu_seconds_total", .counter, dms: "CPUUtilization")
    public static let processMemory = MetricDefinition("ferry_process_resident_memory_bytes", .gauge, dms: "MemoryUsage")
    public static let dataDirectoryFree = MetricDefinition("ferry_data_directory_free_bytes", .gauge, dms: "FreeStorageSpace")

    public static let all: [MetricDefinition] = [
        taskInfo, taskStatus, fullLoadRows, fullLoadProgress, tables, tableRowsLoaded, tableRefusedRows,
        cdcChangesApplied, cdcTransactionsApplied, cdcIncomingChanges, cdcSourceLatency, cdcTargetLatency, cdcMarkerRoundTrip,
        cdcRetainedLog, cdcReconnects, tableChanges, tableDDLs, tableSuspended, tableValidationFailedRows, tableValidationSuspendedRows,
        processCPU, processMemory, dataDirectoryFree,
    ]
}
