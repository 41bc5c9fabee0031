import FerryCore
import Foundation

/// A task's DMS `ReplicationTaskSettings`, parsed once from the document the user wrote, for the API and
/// `ferry migrate` alike. Every value records whether the user or DMS's default set it; a setting whose
/// DMS default would lose, cut or skip data (a LOB limit, DataErrorPolicy, CommitRate) acts only when the
/// user set it (ARCHITECTURE §4 rule 5).
public struct TaskSettings: Sendable {
    /// The user's document as JSON text (`{}` when they gave none): what is stored and parsed again.
    public let userJSON: String
    /// DMS's defaults with the user's values merged in, as DescribeReplicationTasks returns it.
    public let effectiveJSON: String
    public let prepMode: Setting<TargetTablePrepMode>
    public let maxFullLoadSubTasks: Setting<Int>
    /// `FullLoadSettings.CreatePkAfterFullLoad`.
    public let primaryKeyAfterLoad: Setting<Bool>
    /// `FullLoadSettings.CommitRate`: at most this many rows per target transaction, when the user sets it.
    public let commitRate: Setting<Int>
    public let validation: ValidationTaskSettings
    public let changes: ChangeTaskSettings
    public let errors: ErrorTaskSettings
    public let lobs: LobTaskSettings
    /// Every setting the user's document sets (`Section.Key`, or the section when it is not an object).
    public let userKeys: [String]

    /// Parses the user's settings; nil or blank means none. A mistake is an
    /// ``FerryError/Kind/invalidParameter`` naming the setting's path (`FullLoadSettings.CommitRate: …`).
    public init(_ text: String?) throws {
        try self.init(SettingsDocument(text))
    }

    /// The settings after a ModifyReplicationTask sends `text` (see ``SettingsDocument/revised(by:)``).
    public func revised(by text: String) throws -> TaskSettings {
        try TaskSettings(SettingsDocument(userJSON).revised(by: text))
    }

    /// The settings of a task stored before the user's document was kept apart from the effective one:
    /// what differs from DMS's defaults counts as the user's.
    public static func recovered(fromEffective text: String) throws -> TaskSettings {
        try TaskSettings(SettingsDocument.recovered(fromEffective: text))
    }

    private init(_ document: SettingsDocument) throws {
        let full = SettingsSection("FullLoadSettings", of: document)
        let mode = try full.choice("TargetTablePrepMode", of: TargetTablePrepMode.allCases.map(\.rawValue))
        prepMode = Setting(value: TargetTablePrepMode(rawValue: mode.value)!, origin: mode.origin)
        maxFullLoadSubTasks = try full.integer("MaxFullLoadSubTasks", in: 1...49)
        primaryKeyAfterLoad = try full.bool("CreatePkAfterFullLoad")
        commitRate = try full.integer("CommitRate", in: 1...50_000)
        validation = try ValidationTaskSettings(document)
        changes = try ChangeTaskSettings(document)
        errors = try ErrorTaskSettings(document)
        lobs = try LobTaskSettings(document)
        if validation.only, prepMode.value != .doNothing {
            throw FerryError(.invalidParameter, "ValidationSettings.ValidationOnly needs FullLoadSettings.TargetTablePrepMode DO_NOTHING (a validation-only task must not touch the target's tables); got \(prepMode.value.rawValue)")
        }
        userKeys = document.keys
        userJSON = document.json
        effectiveJSON = document.effectiveJSON
    }

    /// The settings Ferry acts on; docs/task-settings.md lists the rest.
    public static let honoured: Set<String> = Set(["FullLoadSettings.TargetTablePrepMode", "FullLoadSettings.MaxFullLoadSubTasks",
                                                   "FullLoadSettings.CreatePkAfterFullLoad", "FullLoadSettings.CommitRate"])
        .union(ValidationTaskSettings.honoured).union(ChangeTaskSettings.honoured).union(ErrorTaskSettings.honoured).union(LobTaskSettings.honoured)

    /// Settings the user set that Ferry accepts but does not act on yet (`Section.Key`), sorted.
    public var unhonoured: [String] { userKeys.filter { !Self.honoured.contains($0) } }

    /// Settings the user set that `ferry migrate` accepts but does not act on: validation is `ferry validate`'s work.
    public var unhonouredByMigrate: [String] {
        let used = Self.honoured.subtracting(ValidationTaskSettings.honoured).union(["ControlTablesSettings.ControlSchema"])
        return userKeys.filter { !used.contains($0) }
    }

    /// The load's options as these settings shape them (the mappings come from the caller).
    public func apply(to options: inout FullLoadOptions) {
        options.prepMode = prepMode.value
        options.parallelism = maxFullLoadSubTasks.value
        options.primaryKeyAfterLoad = primaryKeyAfterLoad.value
        options.commitRows = commitRate.userValue
        options.controlSchema = validation.controlSchema
        errors.apply(to: &options)
        lobs.apply(to: &options)
    }

    /// DDL handling, batching, stopping after the load, and the control schema of change processing (the
    /// table-error policy travels with the load's options).
    public func apply(to options: inout ReplicationOptions) {
        changes.apply(to: &options)
        options.controlSchema = validation.controlSchema
    }
}
