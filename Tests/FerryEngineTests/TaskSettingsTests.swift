import FerryCore
import FerryEngine
import Foundation
import Testing

@Suite("Task settings documents")
struct TaskSettingsTests {
    /// A whole settings document in the shape of the one in AWS's DMS user guide, every section present.
    static let fullDocument = """
        {
          "TargetMetadata": {"TargetSchema": "", "SupportLobs": true, "FullLobMode": false, "LobChunkSize": 64, "LimitedSizeLobMode": true,
            "LobMaxSize": 32, "InlineLobMaxSize": 0, "LoadMaxFileSize": 0, "ParallelLoadThreads": 0, "ParallelLoadBufferSize": 0,
            "BatchApplyEnabled": false, "TaskRecoveryTableEnabled": false, "ParallelLoadQueuesPerThread": 0, "ParallelApplyThreads": 0,
            "ParallelApplyBufferSize": 0, "ParallelApplyQueuesPerThread": 0},
          "FullLoadSettings": {"TargetTablePrepMode": "DO_NOTHING", "CreatePkAfterFullLoad": false, "StopTaskCachedChangesApplied": false,
            "StopTaskCachedChangesNotApplied": false, "MaxFullLoadSubTasks": 8, "TransactionConsistencyTimeout": 600, "CommitRate": 10000},
          "Logging": {"EnableLogging": false, "LogComponents": [{"Id": "TRANSFORMATION", "Severity": "LOGGER_SEVERITY_DEFAULT"}],
            "CloudWatchLogGroup": null, "CloudWatchLogStream": null},
          "ControlTablesSettings": {"historyTimeslotInMinutes": 5, "ControlSchema": "", "HistoryTimeslotInMinutes": 5,
            "HistoryTableEnabled": false, "SuspendedTablesTableEnabled": false, "StatusTableEnabled": false},
          "StreamBufferSettings": {"StreamBufferCount": 3, "StreamBufferSizeInMB": 8, "CtrlStreamBufferSizeInMB": 5},
          "ChangeProcessingDdlHandlingPolicy": {"HandleSourceTableDropped": true, "HandleSourceTableTruncated": true, "HandleSourceTableAltered": true},
          "ErrorBehavior": {"DataErrorPolicy": "LOG_ERROR", "DataTruncationErrorPolicy": "LOG_ERROR", "DataErrorEscalationPolicy": "SUSPEND_TABLE",
            "DataErrorEscalationCount": 0, "TableErrorPolicy": "SUSPEND_TABLE", "TableErrorEscalationPolicy": "STOP_TASK",
            "TableErrorEscalationCount": 0, "RecoverableErrorCount": -1, "RecoverableErrorInterval": 5, "RecoverableErrorThrottling": true,
            "RecoverableErrorThrottlingMax": 1800, "ApplyErrorDeletePolicy": "IGNORE_RECORD", "ApplyErrorInsertPolicy": "LOG_ERROR",
            "ApplyErrorUpdatePolicy": "LOG_ERROR", "ApplyErrorEscalationPolicy": "LOG_ERROR", "ApplyErrorEscalationCount": 0,
            "FullLoadIgnoreConflicts": true},
          "ChangeProcessingTuning": {"BatchApplyPreserveTransaction": true, "BatchApplyTimeoutMin": 1, "BatchApplyTimeoutMax": 30,
            "BatchApplyMemoryLimit": 500, "BatchSplitSize": 0, "MinTransactionSize": 1000, "CommitTimeout": 1, "MemoryLimitTotal": 1024,
            "MemoryKeepTime": 60, "StatementCacheSize": 50},
          "ValidationSettings": {"EnableValidation": true, "ValidationMode": "ROW_LEVEL", "ThreadCount": 5, "PartitionSize": 10000,
            "FailureMaxCount": 1000, "TableFailureMaxCount": 10000, "HandleCollationDiff": false, "ValidationOnly": false},
          "LoopbackPreventionSettings": null,
          "CharacterSetSettings": null,
          "BeforeImageSettings": null,
          "FailTaskWhenCleanTaskResourceFailed": false,
          "PostProcessingRules": null
        }
        """

    @Test("a whole document in the DMS user guide's shape is accepted, its values taking effect")
    func wholeDocument() throws {
        let settings = try TaskSettings(Self.fullDocument)
        #expect(settings.prepMode.value == .doNothing && settings.maxFullLoadSubTasks.value == 8 && settings.validation.enabled)
        #expect(settings.changes.applySchemaChanges && settings.changes.batchSeconds == 1)
    }

    @Test("a misspelt key, a wrong type or an unknown section names its path")
    func mistakesNameTheirPath() {
        func message(_ text: String) -> String {
            do {
                _ = try TaskSettings(text)
                return "accepted"
            } catch {
                return "\(error)"
            }
        }
        #expect(message(#"{"FullLoadSettings": {"MaxFullLoadSubTask": 4}}"#).contains("FullLoadSettings.MaxFullLoadSubTask: unknown setting; FullLoadSettings takes CommitRate, CreatePkAfterFullLoad"))
        #expect(message(#"{"ErrorBehavior": {"DataErrorPolicy": 3}}"#).contains("ErrorBehavior.DataErrorPolicy: expected a string; got 3"))
        #expect(message(#"{"TargetMetadata": {"SupportLobs": "yes"}}"#).contains("TargetMetadata.SupportLobs: expected boolean"))
        #expect(message(#"{"ChangeProcessingTuning": {"CommitTimeout": 1.5}}"#).contains("ChangeProcessingTuning.CommitTimeout: expected an integer"))
        #expect(message(#"{"Logging": {"LogComponents": {}}}"#).contains("Logging.LogComponents: expected an array"))
        #expect(message(#"{"FullLoadSettings": 3}"#).contains("FullLoadSettings: expected an object of settings"))
        #expect(message(#"{"FailTaskWhenCleanTaskResourceFailed": "no"}"#).contains("FailTaskWhenCleanTaskResourceFailed: expected boolean"))
        #expect(message(#"{"Colours": {}}"#).contains("unknown section 'Colours'"))
        #expect(message(#"{"ErrorBehavior": {"TableErrorPolicy": "STOP"}}"#)
            .contains("ErrorBehavior.TableErrorPolicy: expected one of SUSPEND_TABLE, STOP_TASK; got STOP"))
    }

    @Test("a LOB limit applies only when the task asks for one; DataTruncationErrorPolicy decides what a long LOB does")
    func lobSettings() throws {
        #expect(try TaskSettings(nil).lobs.limit == nil, "DMS's 32 KB default would cut LOBs silently")
        #expect(try TaskSettings(Self.fullDocument).lobs.limit == .kilobytes(32), "a document that sets limited mode gets it, as in DMS")
        #expect(try TaskSettings(#"{"TargetMetadata": {"LobMaxSize": 64}}"#).lobs.limit == .kilobytes(64))
        #expect(try TaskSettings(#"{"TargetMetadata": {"LimitedSizeLobMode": true, "FullLobMode": true}}"#).lobs.limit == nil)
        let strict = try TaskSettings(#"{"TargetMetadata": {"LobMaxSize": 8}, "ErrorBehavior": {"DataTruncationErrorPolicy": "STOP_TASK"}}"#).lobs
        #expect(strict.limit == .kilobytes(8, failsTable: true) && strict.stopsTask)
        #expect(throws: FerryError.self) { try TaskSettings(#"{"ErrorBehavior": {"DataTruncationErrorPolicy": "IGNORE_RECORD"}}"#) }
        let withoutLobs = try TaskSettings(#"{"TargetMetadata": {"SupportLobs": false}}"#)
        #expect(!withoutLobs.lobs.supportLobs && withoutLobs.validation.options.skipLobColumns, "what is not copied is not compared")
        #expect(try TaskSettings(#"{"ValidationSettings": {"SkipLobColumns": true}}"#).validation.options.skipLobColumns)
    }

    @Test("TableErrorPolicy and its escalation decide how many failed tables stop the task")
    func tableErrorPolicy() throws {
        #expect(try TaskSettings(nil).errors.tableErrorLimit == nil, "DMS's default suspends the table and goes on")
        #expect(try TaskSettings(#"{"ErrorBehavior": {"TableErrorPolicy": "STOP_TASK"}}"#).errors.tableErrorLimit == 1)
        #expect(try TaskSettings(#"{"ErrorBehavior": {"TableErrorEscalationCount": 3}}"#).errors.tableErrorLimit == 3)
        #expect(try TaskSettings(#"{"ErrorBehavior": {"TableErrorPolicy": "STOP_TASK"}}"#).unhonoured.isEmpty)
    }

    @Test("CommitRate applies only when the task sets it, from 1 to 50,000")
    func commitRate() throws {
        #expect(try TaskSettings(nil).commitRate.userValue == nil, "DMS's default 10,000 would cut every COPY into small transactions unasked")
        #expect(try TaskSettings(#"{"FullLoadSettings": {"CommitRate": 5000}}"#).commitRate.userValue == 5000)
        #expect(try TaskSettings(#"{"FullLoadSettings": {"CommitRate": 5000}}"#).unhonoured.isEmpty)
        #expect(throws: FerryError.self) { try TaskSettings(#"{"FullLoadSettings": {"CommitRate": 0}}"#) }
    }

    @Test("DataErrorPolicy applies only when the task sets it; its escalation comes with it; a bad value names its path")
    func dataErrorPolicy() throws {
        #expect(try TaskSettings(nil).errors.dataErrors == .suspendTable, "DMS's default LOG_ERROR would leave rows out unasked")
        let logged = try TaskSettings(#"{"ErrorBehavior": {"DataErrorPolicy": "LOG_ERROR", "DataErrorEscalationPolicy": "STOP_TASK", "DataErrorEscalationCount": 50}}"#)
        #expect(logged.errors.dataErrors == DataErrorPolicy(action: .skipRow, recordsSkippedRows: true, escalationCount: 50, escalation: .stopTask))
        #expect(logged.unhonoured.isEmpty)
        #expect(try TaskSettings(#"{"ErrorBehavior": {"DataErrorPolicy": "IGNORE_RECORD"}}"#).errors.dataErrors.recordsSkippedRows == false)
        #expect(try TaskSettings(#"{"ErrorBehavior": {"DataErrorPolicy": "STOP_TASK"}}"#).errors.dataErrors.action == .stopTask)
        #expect { try TaskSettings(#"{"ErrorBehavior": {"DataErrorPolicy": "SKIP"}}"#) } throws: { error in
            (error as? FerryError)?.message.contains("ErrorBehavior.DataErrorPolicy: expected one of LOG_ERROR") == true
        }
    }

    @Test("each value records whether the user or DMS's default set it; null counts as not set")
    func origins() throws {
        let settings = try TaskSettings(#"{"FullLoadSettings": {"CommitRate": 10000, "MaxFullLoadSubTasks": null}}"#)
        #expect(settings.commitRate == Setting(value: 10000, origin: .user), "the user's 10,000 is theirs, though it equals DMS's default")
        #expect(settings.maxFullLoadSubTasks == Setting(value: 8, origin: .dmsDefault))
        #expect(settings.prepMode.origin == .dmsDefault && settings.userKeys == ["FullLoadSettings.CommitRate", "FullLoadSettings.MaxFullLoadSubTasks"])
    }

    @Test("the effective document shows DMS's defaults, but parsing it again is not how settings are kept")
    func effectiveDocument() throws {
        let none = try TaskSettings(nil)
        #expect(none.userJSON == "{}")
        let shown = try #require(try JSONSerialization.jsonObject(with: Data(none.effectiveJSON.utf8)) as? [String: [String: Any]])
        #expect(shown["TargetMetadata"]?["LobMaxSize"] as? Int == 32 && shown["FullLoadSettings"]?["CommitRate"] as? Int == 10000)
        let again = try TaskSettings(none.userJSON)
        #expect(again.lobs.limit == nil && again.commitRate.userValue == nil && again.errors.dataErrors == .suspendTable)
    }

    @Test("a modify merges what changed over the user's document; the defaults a read-back document echoes stay defaults")
    func revisedByModify() throws {
        let created = try TaskSettings(#"{"FullLoadSettings": {"MaxFullLoadSubTasks": 4}}"#)
        var readBack = try #require(try JSONSerialization.jsonObject(with: Data(created.effectiveJSON.utf8)) as? [String: Any])
        var metadata = try #require(readBack["ValidationSettings"] as? [String: Any])
        metadata["EnableValidation"] = true
        readBack["ValidationSettings"] = metadata
        let text = String(decoding: try JSONSerialization.data(withJSONObject: readBack), as: UTF8.self)
        let modified = try created.revised(by: text)
        #expect(modified.userKeys == ["FullLoadSettings.MaxFullLoadSubTasks", "ValidationSettings.EnableValidation"])
        #expect(modified.lobs.limit == nil && modified.commitRate.userValue == nil, "the echoed LobMaxSize 32 and CommitRate 10,000 are not the user's")
        let again = try modified.revised(by: #"{"TargetMetadata": {"LobMaxSize": 64}}"#)
        #expect(again.maxFullLoadSubTasks.value == 4 && again.validation.enabled && again.lobs.limit == .kilobytes(64))
        #expect(throws: FerryError.self) { try again.revised(by: #"{"FullLoadSettings": {"CommitRate": 0}}"#) }
    }

    @Test("a task stored with only its effective document keeps what differs from DMS's defaults as the user's")
    func recoveredFromEffective() throws {
        let old = try TaskSettings(#"{"FullLoadSettings": {"TargetTablePrepMode": "DO_NOTHING"}, "ErrorBehavior": {"DataErrorPolicy": "STOP_TASK"}}"#)
        let recovered = try TaskSettings.recovered(fromEffective: old.effectiveJSON)
        #expect(recovered.userKeys == ["ErrorBehavior.DataErrorPolicy", "FullLoadSettings.TargetTablePrepMode"])
        #expect(recovered.lobs.limit == nil && recovered.commitRate.userValue == nil && recovered.errors.dataErrors.action == .stopTask)
    }
}
