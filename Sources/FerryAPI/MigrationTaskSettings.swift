import FerryCore
import FerryEngine

/// A DMS `ReplicationTaskSettings` document for `ferry migrate --task-settings`: checked exactly as the API
/// checks it, and applied to a full load's and a replication's options.
public struct MigrationTaskSettings: Sendable {
    private let settings: TaskSettings
    /// Keys the document sets that `ferry migrate` accepts but does not act on (`Section.Key`).
    public let unhonoured: [String]

    /// Parses the document; a mistake is an error naming the setting's path.
    public init(json: String) throws {
        do {
            settings = try TaskSettings(json)
        } catch let error as DMSError {
            throw FerryError.invalidParameter("--task-settings", error.message.replacingOccurrences(of: "Invalid task settings JSON: ", with: ""))
        }
        // Validation is `ferry validate`'s work on the command line; the control schema is used.
        let used = TaskSettings.honoured.subtracting(ValidationTaskSettings.honoured).union(["ControlTablesSettings.ControlSchema"])
        unhonoured = settings.userKeys.filter { !used.contains($0) }
    }

    /// The load's prep mode, parallelism, key timing, table-error limit and LOB limit.
    public func apply(to load: inout FullLoadOptions) {
        settings.apply(to: &load)
        load.parallelism = settings.maxFullLoadSubTasks
    }

    /// DDL handling, batching, stopping after the load, and the control schema of change processing (the
    /// table-error policy travels with the load's options).
    public func apply(to replication: inout ReplicationOptions) {
        settings.changes.apply(to: &replication)
        replication.controlSchema = settings.validation.controlSchema
    }
}
