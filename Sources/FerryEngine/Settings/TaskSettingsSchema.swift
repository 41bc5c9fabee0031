import FerryCore
import Foundation

/// The settings each DMS task-settings section takes, with the JSON type of each, so that a misspelt key
/// or a value of the wrong type is refused with its path (`FullLoadSettings.MaxFullLoadSubTask: unknown
/// setting`) instead of being ignored.
enum TaskSettingsSchema {
    enum Kind: String {
        case boolean, integer, string, object, array
    }

    private static let b = Kind.boolean, i = Kind.integer, s = Kind.string, o = Kind.object, a = Kind.array

    /// Per section, its keys and their types (from AWS's DMS task-settings reference).
    static let sections: [String: [String: Kind]] = [
        "TargetMetadata": [
            "TargetSchema": s, "SupportLobs": b, "FullLobMode": b, "LobChunkSize": i, "LimitedSizeLobMode": b, "LobMaxSize": i,
            "InlineLobMaxSize": i, "LoadMaxFileSize": i, "ParallelLoadThreads": i, "ParallelLoadBufferSize": i,
            "ParallelLoadQueuesPerThread": i, "ParallelApplyThreads": i, "ParallelApplyBufferSize": i,
            "ParallelApplyQueuesPerThread": i, "BatchApplyEnabled": b, "TaskRecoveryTableEnabled": b,
        ],
        "FullLoadSettings": [
            "TargetTablePrepMode": s, "CreatePkAfterFullLoad": b, "StopTaskCachedChangesApplied": b,
            "StopTaskCachedChangesNotApplied": b, "MaxFullLoadSubTasks": i, "TransactionConsistencyTimeout": i, "CommitRate": i,
        ],
        "ChangeProcessingTuning": [
            "BatchApplyPreserveTransaction": b, "BatchApplyTimeoutMin": i, "BatchApplyTimeoutMax": i, "BatchApplyMemoryLimit": i,
            "BatchSplitSize": i, "MinTransactionSize": i, "CommitTimeout": i, "MemoryLimitTotal": i, "MemoryKeepTime": i,
            "StatementCacheSize": i,
        ],
        "ChangeProcessingDdlHandlingPolicy": [
            "HandleSourceTableDropped": b, "HandleSourceTableTruncated": b, "HandleSourceTableAltered": b,
        ],
        "ErrorBehavior": [
            "DataErrorPolicy": s, "DataTruncationErrorPolicy": s, "DataErrorEscalationPolicy": s, "DataErrorEscalationCount": i,
            "EventErrorPolicy": s, "TableErrorPolicy": s, "TableErrorEscalationPolicy": s, "TableErrorEscalationCount": i,
            "RecoverableErrorCount": i, "RecoverableErrorInterval": i, "RecoverableErrorThrottling": b,
            "RecoverableErrorThrottlingMax": i, "RecoverableErrorStopRetryAfterThrottlingMax": b, "ApplyErrorDeletePolicy": s,
            "ApplyErrorInsertPolicy": s, "ApplyErrorUpdatePolicy": s, "ApplyErrorEscalationPolicy": s,
            "ApplyErrorEscalationCount": i, "ApplyErrorFailOnTruncationDdl": b, "FailOnNoTablesCaptured": b,
            "FailOnTransactionConsistencyBreached": b, "FullLoadIgnoreConflicts": b, "DataMaskingErrorPolicy": s,
        ],
        "ValidationSettings": [
            "EnableValidation": b, "ValidationMode": s, "ThreadCount": i, "PartitionSize": i, "FailureMaxCount": i,
            "TableFailureMaxCount": i, "RecordFailureDelayInMinutes": i, "RecordSuspendDelayInMinutes": i,
            "RecordFailureDelayLimitInMinutes": i, "MaxKeyColumnSize": i, "ValidationOnly": b, "HandleCollationDiff": b,
            "SkipLobColumns": b, "ValidationPartialLobSize": i, "ValidationQueryCdcDelaySeconds": i,
        ],
        "Logging": [
            "EnableLogging": b, "EnableLogContext": b, "DeleteTaskLogs": b, "LogComponents": a,
            "CloudWatchLogGroup": s, "CloudWatchLogStream": s,
        ],
        "ControlTablesSettings": [
            "ControlSchema": s, "HistoryTimeslotInMinutes": i, "HistoryTableEnabled": b, "SuspendedTablesTableEnabled": b,
            "StatusTableEnabled": b, "historyTimeslotInMinutes": i, "FullLoadExceptionTableEnabled": b,
        ],
        "StreamBufferSettings": ["StreamBufferCount": i, "StreamBufferSizeInMB": i, "CtrlStreamBufferSizeInMB": i],
        "LoopbackPreventionSettings": ["EnableLoopbackPrevention": b, "SourceSchema": s, "TargetSchema": s],
        "CharacterSetSettings": ["CharacterReplacements": a, "CharacterSetSupport": o],
        "BeforeImageSettings": ["EnableBeforeImage": b, "FieldName": s, "ColumnFilter": s],
        "TTSettings": ["EnableTT": b, "TTS3Settings": o, "TTRecordSettings": o],
    ]

    /// Top-level settings that are values rather than sections.
    static let values: [String: Kind] = ["FailTaskWhenCleanTaskResourceFailed": b, "PostProcessingRules": o]

    /// Checks the user's document: known sections and keys, each value of its type (or null).
    static func check(_ user: [String: Any]) throws {
        for (name, value) in user.sorted(by: { $0.key < $1.key }) {
            if let kind = values[name] {
                try expect(value, kind, path: name)
                continue
            }
            guard let keys = sections[name] else {
                throw FerryError(.invalidParameter, "unknown section '\(name)'; expected one of \((sections.keys.sorted() + values.keys.sorted()).joined(separator: ", "))")
            }
            if value is NSNull { continue }
            guard let fields = value as? [String: Any] else {
                throw FerryError.invalidParameter(name, "expected an object of settings; got \(value)")
            }
            for (key, field) in fields.sorted(by: { $0.key < $1.key }) {
                guard let kind = keys[key] else {
                    throw FerryError.invalidParameter("\(name).\(key)", "unknown setting; \(name) takes \(keys.keys.sorted().joined(separator: ", "))")
                }
                try expect(field, kind, path: "\(name).\(key)")
            }
        }
    }

    private static func expect(_ value: Any, _ kind: Kind, path: String) throws {
        if value is NSNull { return }
        let matches: Bool
        switch kind {
        case .boolean: matches = JSONValue.isBoolean(value) && value is Bool
        case .integer: matches = !JSONValue.isBoolean(value) && (value as? NSNumber).map { $0.doubleValue == $0.doubleValue.rounded() } == true
        case .string: matches = value is String
        case .object: matches = value is [String: Any]
        case .array: matches = value is [Any]
        }
        guard matches else {
            let expected = [Kind.boolean: "boolean", .integer: "an integer", .string: "a string", .object: "an object", .array: "an array"][kind]!
            throw FerryError.invalidParameter(path, "expected \(expected); got \(value)")
        }
    }
}
