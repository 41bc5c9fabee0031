import FerryCore
import Foundation

/// A DMS `ReplicationTaskSettings` document as the user wrote it, checked against DMS's sections, keys and
/// types. It is the only input settings are parsed from: DMS's defaults are filled in around it only for
/// display (``effectiveJSON``), so a default can never pass for the user's choice.
struct SettingsDocument {
    /// The user's sections and top-level values, as parsed.
    let user: [String: Any]

    /// Parses the user's text; nil or blank is an empty document.
    init(_ text: String?) throws {
        guard let text, !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            user = [:]
            return
        }
        guard let parsed = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else {
            throw FerryError(.invalidParameter, "not a JSON object")
        }
        try TaskSettingsSchema.check(parsed)
        user = parsed
    }

    private init(user: [String: Any]) {
        self.user = user
    }

    /// Every setting the document sets (`Section.Key`, or the section when it is not an object), sorted.
    var keys: [String] {
        user.flatMap { section, value in
            (value as? [String: Any]).map { $0.keys.map { "\(section).\($0)" } } ?? [section]
        }.sorted()
    }

    /// The user's document as JSON text with sorted keys.
    var json: String { Self.text(user) }

    /// DMS's defaults with the user's values merged in, as DescribeReplicationTasks returns it.
    var effectiveJSON: String { Self.text(effective) }

    private var effective: [String: Any] {
        var effective = Self.defaults
        for (section, value) in user {
            if let values = value as? [String: Any], var current = effective[section] as? [String: Any] {
                current.merge(values) { _, new in new }
                effective[section] = current
            } else {
                effective[section] = value
            }
        }
        return effective
    }

    /// This document after a ModifyReplicationTask that sends `text`: the keys `text` sets are merged over
    /// the user's, except those whose value is what the task already shows and that the user had not set. A
    /// document read back from DescribeReplicationTasks and sent again with one key changed sets that key
    /// only; the defaults it echoes stay defaults.
    func revised(by text: String) throws -> SettingsDocument {
        let change = try SettingsDocument(text)
        let shown = effective
        var user = self.user
        for (section, value) in change.user {
            guard let values = value as? [String: Any] else {
                if !Self.same(value, shown[section]) || user[section] != nil { user[section] = value }
                continue
            }
            var mine = user[section] as? [String: Any] ?? [:]
            let shownSection = shown[section] as? [String: Any] ?? [:]
            for (key, new) in values where !Self.same(new, shownSection[key]) || mine[key] != nil {
                mine[key] = new
            }
            if !mine.isEmpty { user[section] = mine }
        }
        return SettingsDocument(user: user)
    }

    /// The user's document recovered from an effective one stored before the two were kept apart: the
    /// settings whose value differs from DMS's default.
    static func recovered(fromEffective text: String) throws -> SettingsDocument {
        try SettingsDocument(nil).revised(by: text)
    }

    private static func same(_ a: Any, _ b: Any?) -> Bool {
        guard let b else { return false }
        return text(["v": a]) == text(["v": b])
    }

    private static func text(_ object: [String: Any]) -> String {
        String(decoding: (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8), as: UTF8.self)
    }

    /// DMS's defaults for every section Ferry shows, from AWS's task-settings reference.
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
}
