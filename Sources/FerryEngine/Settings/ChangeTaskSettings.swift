import FerryCore

/// The task settings that shape change processing: DDL handling, batching, and stopping after the load.
public struct ChangeTaskSettings: Sendable {
    /// `ChangeProcessingDdlHandlingPolicy.HandleSourceTableAltered`: apply added and dropped columns.
    public var applySchemaChanges: Bool
    /// `ChangeProcessingDdlHandlingPolicy.HandleSourceTableTruncated`: apply truncates.
    public var applyTruncates: Bool
    /// `ChangeProcessingTuning.BatchApplyTimeoutMin` when the task sets it: seconds changes gather before
    /// they are applied. Ferry's own default (0.1 s) is lower than DMS's 1 s, for lower lag.
    public var batchSeconds: Double?
    /// `ChangeProcessingTuning.BatchSplitSize` when above 0: at most this many changes per target transaction.
    public var maxBatchChanges: Int?
    /// `FullLoadSettings.StopTaskCachedChangesNotApplied`: stop after the full load, before applying changes.
    public var stopAfterLoad: Bool
    /// `FullLoadSettings.StopTaskCachedChangesApplied`: stop once the changes made during the load are applied.
    public var stopAfterCachedChanges: Bool

    static let honoured: Set<String> = [
        "ChangeProcessingDdlHandlingPolicy.HandleSourceTableAltered", "ChangeProcessingDdlHandlingPolicy.HandleSourceTableTruncated",
        "ChangeProcessingTuning.BatchApplyTimeoutMin", "ChangeProcessingTuning.BatchSplitSize",
        "FullLoadSettings.StopTaskCachedChangesNotApplied", "FullLoadSettings.StopTaskCachedChangesApplied",
    ]

    init(_ document: SettingsDocument) throws {
        let ddl = SettingsSection("ChangeProcessingDdlHandlingPolicy", of: document)
        applySchemaChanges = try ddl.bool("HandleSourceTableAltered").value
        applyTruncates = try ddl.bool("HandleSourceTableTruncated").value
        let tuning = SettingsSection("ChangeProcessingTuning", of: document)
        batchSeconds = try tuning.integer("BatchApplyTimeoutMin", in: 0...3600).userValue.map { max(0.05, Double($0)) }
        let split = try tuning.integer("BatchSplitSize", in: 0...10_000_000).value
        maxBatchChanges = split > 0 ? split : nil
        let full = SettingsSection("FullLoadSettings", of: document)
        stopAfterLoad = try full.bool("StopTaskCachedChangesNotApplied").value
        stopAfterCachedChanges = try full.bool("StopTaskCachedChangesApplied").value
    }

    /// Sets these settings on a replication's options.
    func apply(to options: inout ReplicationOptions) {
        options.applySchemaChanges = applySchemaChanges
        options.applyTruncates = applyTruncates
        if let batchSeconds {
            options.batchSeconds = batchSeconds
            options.batchesFillWindow = true
        }
        if let maxBatchChanges { options.maxBatchChanges = maxBatchChanges }
        options.stopAfterLoad = stopAfterLoad
        options.stopAfterCachedChanges = stopAfterCachedChanges
    }
}
