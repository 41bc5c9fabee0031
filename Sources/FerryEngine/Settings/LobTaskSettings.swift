import FerryCore

/// The LOB settings Ferry acts on. DMS's defaults (limited LOB mode, 32 KB) would cut every larger LOB, so
/// Ferry applies a limit only when the task sets `TargetMetadata.LimitedSizeLobMode` or `LobMaxSize` itself;
/// otherwise every LOB is copied whole.
public struct LobTaskSettings: Sendable {
    /// The task's LOB limit, if it asks for one.
    public var limit: LobLimit?
    /// `TargetMetadata.SupportLobs`: false leaves LOB columns out of the migration.
    public var supportLobs: Bool
    /// `ErrorBehavior.DataTruncationErrorPolicy` SUSPEND_TABLE or STOP_TASK: a LOB over a limit fails its table.
    public var failsTable: Bool
    /// `DataTruncationErrorPolicy` STOP_TASK: that failure also stops the task.
    public var stopsTask: Bool

    static let honoured: Set<String> = [
        "TargetMetadata.LimitedSizeLobMode", "TargetMetadata.LobMaxSize", "TargetMetadata.FullLobMode", "TargetMetadata.SupportLobs",
        "ErrorBehavior.DataTruncationErrorPolicy",
    ]

    init(_ document: SettingsDocument) throws {
        let metadata = SettingsSection("TargetMetadata", of: document)
        let limited = try metadata.bool("LimitedSizeLobMode")
        let full = try metadata.bool("FullLobMode").value
        let size = try metadata.integer("LobMaxSize", in: 1...10_485_760)
        supportLobs = try metadata.bool("SupportLobs").value
        let policy = try SettingsSection("ErrorBehavior", of: document)
            .choice("DataTruncationErrorPolicy", of: ["LOG_ERROR", "IGNORE_RECORD", "SUSPEND_TABLE", "STOP_TASK"]).value
        guard policy != "IGNORE_RECORD" else {
            throw FerryError.invalidParameter("ErrorBehavior.DataTruncationErrorPolicy", "IGNORE_RECORD is not supported: Ferry does not drop rows; use LOG_ERROR (cut the LOB and count it), SUSPEND_TABLE or STOP_TASK")
        }
        failsTable = policy == "SUSPEND_TABLE" || policy == "STOP_TASK"
        stopsTask = policy == "STOP_TASK"
        let asked = limited.origin == .user || size.origin == .user
        limit = asked && limited.value && !full ? .kilobytes(size.value, failsTable: failsTable) : nil
    }

    /// Sets these settings on a full load's options (a replication takes its plans from there).
    func apply(to load: inout FullLoadOptions) {
        load.lobLimit = limit
        load.supportLobs = supportLobs
        load.lobTruncationFailsTable = failsTable
        if stopsTask { load.tableErrorLimit = 1 }
    }
}
