import FerryCore
import FerryEngine
import Foundation

/// DMS `ReplicationTaskSettings`: the effective document (DMS's defaults with the user's values merged
/// in, as DescribeReplicationTasks returns it) and the values Ferry honours.
struct TaskSettings {
    /// The load's options as these settings shape them (the mappings and parallelism come from the caller).
    func apply(to options: inout FullLoadOptions) {
        options.prepMode = prepMode
        options.primaryKeyAfterLoad = primaryKeyAfterLoad
        options.commitRows = commitRows
        options.controlSchema = validation.controlSchema
        errors.apply(to: &options)
        lobs.apply(to: &options)
    }

    /// The effective settings as JSON text.
    let json: String
    let prepMode: TargetTablePrepMode
    let maxFullLoadSubTasks: Int
    /// `FullLoadSettings.CreatePkAfterFullLoad`.
    let primaryKeyAfterLoad: Bool
    /// `FullLoadSettings.CommitRate` when the task sets it: at most this many rows per target transaction.
    let commitRows: Int?
    let validation: ValidationTaskSettings
    let changes: ChangeTaskSettings
    let errors: ErrorTaskSettings
    let lobs: LobTaskSettings
    /// Settings the user set that Ferry accepts but does not act on yet (`Section.Key`), sorted.
    let unhonoured: [String]
    /// Every setting the user's document sets (`Section.Key`, or the section when it is not an object).
    let userKeys: [String]

    /// The settings Ferry acts on; docs/task-settings.md lists the rest.
    static let honoured: Set<String> = Set(["FullLoadSettings.TargetTablePrepMode", "FullLoadSettings.MaxFullLoadSubTasks",
                                            "FullLoadSettings.CreatePkAfterFullLoad", "FullLoadSettings.CommitRate"])
        .union(ValidationTaskSettings.honoured).union(ChangeTaskSettings.honoured).union(ErrorTaskSettings.honoured).union(LobTaskSettings.honoured)

    static var defaults: [String: Any] { [
        "TargetMetadata": [
            "TargetSchema": "", "SupportLobs": true, "FullLobMode": false, "LobChunkSize": 64, "LimitedSizeLobMode": true,
            "LobMaxSize": 32, "InlineLobMaxSize": 0, "LoadMaxFileSize": 0, "ParallelLoadThreads": 0, "ParallelLoadBufferSize": 0,
            "ParallelLoadQueuesPerThread": 1, "ParallelApplyThreads": 0, "ParallelApplyBufferSize": 100,
            "ParallelApplyQueuesPerThread": 1, "BatchApplyEnabled": false, "TaskRecoveryTableEnabled": false,
        ] as [String: Any],
        "FullLoadSettings": [
            "TargetTablePrepMode": "DROP_AND_CREATE", "CreatePkAfterFullLoad": false, "StopTaskCachedChangesApplied": false,
            "StopTaskCachedChangesNotApplied": false, "MaxFullLoadSubTasks": 8, "TransactionConsistencyTimeout": 600,
            "CommitRate": 10000,
        ] as [String: Any],
        "ChangeProcessingTuning": [
            "BatchApplyPreserveTransaction": true, "BatchApplyTimeoutMin": 1, "BatchApplyTimeoutMax": 30,
            "BatchApplyMemoryLimit": 500, "BatchSplitSize": 0, "MinTransactionSize": 1000, "CommitTimeout": 1,
            "MemoryLimitTotal": 1024, "MemoryKeepTime": 60, "StatementCacheSize": 50,
        ] as [String: Any],
        "ChangeProcessingDdlHandlingPolicy": [
            "HandleSourceTableDropped": true, "HandleSourceTableTruncated": true, "HandleSourceTableAltered": true,
        ] as [String: Any],
        "ErrorBehavior": [
            "DataErrorPolicy": "LOG_ERROR", "DataTruncationErrorPolicy": "LOG_ERROR", "DataErrorEscalationPolicy": "SUSPEND_TABLE",
            "DataErrorEscalationCount": 0, "EventErrorPolicy": "IGNORE", "TableErrorPolicy": "SUSPEND_TABLE",
            "TableErrorEscalationPolicy": "STOP_TASK", "TableErrorEscalationCount": 0, "RecoverableErrorCount": -1,
            "RecoverableErrorInterval": 5, "RecoverableErrorThrottling": true, "RecoverableErrorThrottlingMax": 1800,
            "ApplyErrorDeletePolicy": "IGNORE_RECORD", "ApplyErrorInsertPolicy": "LOG_ERROR", "ApplyErrorUpdatePolicy": "LOG_ERROR",
            "ApplyErrorEscalationPolicy": "LOG_ERROR", "ApplyErrorEscalationCount": 0, "FullLoadIgnoreConflicts": true,
        ] as [String: Any],
        "ValidationSettings": [
            "EnableValidation": false, "ValidationMode": "ROW_LEVEL", "ThreadCount": 5, "PartitionSize": 10000,
            "FailureMaxCount": 10000, "TableFailureMaxCount": 1000, "RecordFailureDelayInMinutes": 5,
            "RecordSuspendDelayInMinutes": 30, "RecordFailureDelayLimitInMinutes": 0, "MaxKeyColumnSize": 8096,
            "ValidationOnly": false, "HandleCollationDiff": false, "SkipLobColumns": false, "ValidationPartialLobSize": 0,
            "ValidationQueryCdcDelaySeconds": 0,
        ] as [String: Any],
        "Logging": ["EnableLogging": false] as [String: Any],
        "ControlTablesSettings": [
            "ControlSchema": "", "HistoryTimeslotInMinutes": 5, "HistoryTableEnabled": false,
            "SuspendedTablesTableEnabled": false, "StatusTableEnabled": false,
        ] as [String: Any],
        "StreamBufferSettings": ["StreamBufferCount": 3, "StreamBufferSizeInMB": 8, "CtrlStreamBufferSizeInMB": 5] as [String: Any],
    ] }

    /// Parses the user's settings (nil or empty means all defaults) over DMS's defaults.
    init(_ text: String?) throws {
        var effective = Self.defaults
        var userKeys: [String] = []
        var user: [String: Any] = [:]
        if let text, !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            guard let data = text.data(using: .utf8), let parsed = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
                throw DMSError.invalidParameter("Invalid task settings JSON: ReplicationTaskSettings is not a JSON object.")
            }
            user = parsed
            try TaskSettingsSchema.check(user)
            for (section, value) in user {
                if let values = value as? [String: Any], var current = effective[section] as? [String: Any] {
                    current.merge(values) { _, new in new }
                    effective[section] = current
                    userKeys += values.keys.map { "\(section).\($0)" }
                } else {
                    effective[section] = value
                    userKeys.append(section)
                }
            }
        }
        let full = effective["FullLoadSettings"] as? [String: Any] ?? [:]
        guard let modeText = full["TargetTablePrepMode"] as? String, let mode = TargetTablePrepMode(rawValue: modeText) else {
            throw DMSError.invalidParameter("Invalid task settings JSON: FullLoadSettings.TargetTablePrepMode must be DO_NOTHING, DROP_AND_CREATE or TRUNCATE_BEFORE_LOAD; got \(full["TargetTablePrepMode"].map { "\($0)" } ?? "null").")
        }
        let subTasks = try SettingsSection(effective, "FullLoadSettings").integer("MaxFullLoadSubTasks", in: 1...49)
        prepMode = mode
        maxFullLoadSubTasks = subTasks
        primaryKeyAfterLoad = try SettingsSection(effective, "FullLoadSettings").bool("CreatePkAfterFullLoad")
        let commitRate = try SettingsSection(effective, "FullLoadSettings").integer("CommitRate", in: 1...50_000)
        commitRows = (user["FullLoadSettings"] as? [String: Any])?["CommitRate"] != nil ? commitRate : nil
        validation = try ValidationTaskSettings(effective)
        changes = try ChangeTaskSettings(effective, user: user)
        errors = try ErrorTaskSettings(effective, user: user)
        lobs = try LobTaskSettings(effective, user: user)
        if validation.only, mode != .doNothing {
            throw DMSError.invalidParameter("Invalid task settings JSON: ValidationSettings.ValidationOnly needs FullLoadSettings.TargetTablePrepMode DO_NOTHING (a validation-only task must not touch the target's tables); got \(mode.rawValue).")
        }
        self.userKeys = userKeys.sorted()
        self.unhonoured = self.userKeys.filter { !Self.honoured.contains($0) }
        json = String(decoding: try JSONSerialization.data(withJSONObject: effective, options: [.sortedKeys]), as: UTF8.self)
    }
}
