import FerryCore
import FerryEngine

/// The task settings that shape change processing: DDL handling, batching, and stopping after the load.
struct ChangeTaskSettings {
    /// `ChangeProcessingDdlHandlingPolicy.HandleSourceTableAltered`: apply added and dropped columns.
    var applySchemaChanges: Bool
    /// `ChangeProcessingDdlHandlingPolicy.HandleSourceTableTruncated`: apply truncates.
    var applyTruncates: Bool
    /// `ChangeProcessingTuning.BatchApplyTimeoutMin` when the task sets it: seconds changes gather before
    /// they are applied. Ferry's own default (0.1 s) is lower than DMS's 1 s, for lower lag.
    var batchSeconds: Double?
    /// `ChangeProcessingTuning.BatchSplitSize` when above 0: at most this many changes per target transaction.
    var maxBatchChanges: Int?
    /// `FullLoadSettings.StopTaskCachedChangesNotApplied`: stop after the full load, before applying changes.
    var stopAfterLoad: Bool
    /// `FullLoadSettings.StopTaskCachedChangesApplied`: stop once the changes made during the load are applied.
    var stopAfterCachedChanges: Bool

    static let honoured: Set<String> = [
        "ChangeProcessingDdlHandlingPolicy.HandleSourceTableAltered", "ChangeProcessingDdlHandlingPolicy.HandleSourceTableTruncated",
        "ChangeProcessingTuning.BatchApplyTimeoutMin", "ChangeProcessingTuning.BatchSplitSize",
        "FullLoadSettings.StopTaskCachedChangesNotApplied", "FullLoadSettings.StopTaskCachedChangesApplied",
    ]

    /// Reads the settings from the effective document; `user` is the user's own document, which says
    /// whether BatchApplyTimeoutMin was set or is DMS's default.
    init(_ effective: [String: Any], user: [String: Any]) throws {
        let ddl = SettingsSection(effective, "ChangeProcessingDdlHandlingPolicy")
        applySchemaChanges = try ddl.bool("HandleSourceTableAltered")
        applyTruncates = try ddl.bool("HandleSourceTableTruncated")
        let tuning = SettingsSection(effective, "ChangeProcessingTuning")
        let timeout = try tuning.integer("BatchApplyTimeoutMin", in: 0...3600)
        let userSetTimeout = (user["ChangeProcessingTuning"] as? [String: Any])?["BatchApplyTimeoutMin"] != nil
        batchSeconds = userSetTimeout ? max(0.05, Double(timeout)) : nil
        let split = try tuning.integer("BatchSplitSize", in: 0...10_000_000)
        maxBatchChanges = split > 0 ? split : nil
        let full = SettingsSection(effective, "FullLoadSettings")
        stopAfterLoad = try full.bool("StopTaskCachedChangesNotApplied")
        stopAfterCachedChanges = try full.bool("StopTaskCachedChangesApplied")
    }

    /// Sets these settings on a replication's options.
    func apply(to options: inout ReplicationOptions) {
        options.applySchemaChanges = applySchemaChanges
        options.applyTruncates = applyTruncates
        if let batchSeconds { options.batchSeconds = batchSeconds }
        if let maxBatchChanges { options.maxBatchChanges = maxBatchChanges }
        options.stopAfterLoad = stopAfterLoad
        options.stopAfterCachedChanges = stopAfterCachedChanges
    }
}
