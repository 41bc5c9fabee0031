/// The tables Ferry (and DMS) keep in a database: on a target, and on a source a cutover froze. A database
/// that is the target of one task and the source of another (replication back after a cutover) holds
/// them, and they are never migrated unless a rule names them exactly.
public enum ControlTableNames {
    /// Each task's applied position.
    public static let applyStatus = "ferry_apply_status"
    /// Each task's full-load progress, so that a load that stopped resumes by chunk.
    public static let loadProgress = "ferry_load_progress"
    /// DMS's rows skipped under `DataErrorPolicy` LOG_ERROR.
    public static let applyExceptions = "awsdms_apply_exceptions"
    /// DMS's rows that failed validation.
    public static let validationFailures = "awsdms_validation_failures_v1"

    /// The cutover's stream markers (MySQL/MariaDB sources, one row per task).
    public static let streamMarkers = "ferry_stream_markers"
    /// The cutover's write fence: the fenced tables (MySQL/MariaDB), or the applier's pass (SQLite).
    public static let writeFence = "ferry_write_fence"
    public static let writeFenceBypass = "ferry_write_fence_bypass"

    public static let all: Set<String> = [applyStatus, loadProgress, applyExceptions, validationFailures, streamMarkers, writeFence, writeFenceBypass]
}

extension SourceConnector {
    /// The tables the mappings select, without the control tables no rule names exactly.
    public func discoverTables(_ mappings: TableMappings) throws -> [TableSchema] {
        let explicit = Set(mappings.explicitTables)
        return try discover(mappings).filter { !ControlTableNames.all.contains($0.id.name) || explicit.contains($0.id) }
    }
}
