import FerryCore

/// The task's `ValidationSettings` and `ControlTablesSettings.ControlSchema`.
public struct ValidationTaskSettings: Sendable {
    public var enabled: Bool
    /// A validation-only task compares and loads nothing (DMS `ValidationOnly`).
    public var only: Bool
    public var options: ValidationOptions
    /// Where `awsdms_validation_failures_v1` lives on the target; empty means the engine's default.
    public var controlSchema: String

    static let honoured: Set<String> = [
        "ValidationSettings.EnableValidation", "ValidationSettings.ValidationOnly", "ValidationSettings.ThreadCount",
        "ValidationSettings.PartitionSize", "ValidationSettings.FailureMaxCount", "ValidationSettings.ValidationMode",
        "ValidationSettings.SkipLobColumns", "ControlTablesSettings.ControlSchema",
    ]

    init(_ document: SettingsDocument) throws {
        let section = SettingsSection("ValidationSettings", of: document)
        enabled = try section.bool("EnableValidation").value
        only = try section.bool("ValidationOnly").value
        _ = try section.choice("ValidationMode", of: ["ROW_LEVEL"])
        options = ValidationOptions()
        options.threadCount = try section.integer("ThreadCount", in: 1...64).value
        options.fetchRows = Int64(try section.integer("PartitionSize", in: 1...1_000_000).value)
        options.failureMaxCount = try section.integer("FailureMaxCount", in: 0...10_000_000).value
        // A task that does not copy LOBs cannot compare them.
        options.skipLobColumns = try section.bool("SkipLobColumns").value
            || !(SettingsSection("TargetMetadata", of: document).bool("SupportLobs").value)
        controlSchema = try SettingsSection("ControlTablesSettings", of: document).string("ControlSchema").value
        if only { enabled = true }
    }
}
