import FerryCore
import FerryEngine

/// The task's `ValidationSettings` and `ControlTablesSettings.ControlSchema`, read from the effective settings.
struct ValidationTaskSettings: Sendable {
    var enabled: Bool
    /// A validation-only task compares and loads nothing (DMS `ValidationOnly`).
    var only: Bool
    var options: ValidationOptions
    /// Where `awsdms_validation_failures_v1` lives on the target; empty means the engine's default.
    var controlSchema: String

    static let honoured: Set<String> = [
        "ValidationSettings.EnableValidation", "ValidationSettings.ValidationOnly", "ValidationSettings.ThreadCount",
        "ValidationSettings.PartitionSize", "ValidationSettings.FailureMaxCount", "ValidationSettings.ValidationMode",
        "ValidationSettings.SkipLobColumns", "ControlTablesSettings.ControlSchema",
    ]

    init(_ effective: [String: Any]) throws {
        let section = SettingsSection(effective, "ValidationSettings")
        enabled = try section.bool("EnableValidation")
        only = try section.bool("ValidationOnly")
        guard try section.string("ValidationMode") == "ROW_LEVEL" else {
            throw DMSError.invalidParameter("Invalid task settings JSON: ValidationSettings.ValidationMode: expected ROW_LEVEL, the only mode DMS defines.")
        }
        options = ValidationOptions()
        options.threadCount = try section.integer("ThreadCount", in: 1...64)
        options.fetchRows = Int64(try section.integer("PartitionSize", in: 1...1_000_000))
        options.failureMaxCount = try section.integer("FailureMaxCount", in: 0...10_000_000)
        // A task that does not copy LOBs cannot compare them.
        options.skipLobColumns = try section.bool("SkipLobColumns") || !(SettingsSection(effective, "TargetMetadata").bool("SupportLobs"))
        controlSchema = try SettingsSection(effective, "ControlTablesSettings").string("ControlSchema")
        if only { enabled = true }
    }
}

/// One section of the effective settings, read with errors that name the setting's path and the type expected.
struct SettingsSection {
    let values: [String: Any]
    let name: String

    init(_ effective: [String: Any], _ name: String) {
        values = effective[name] as? [String: Any] ?? [:]
        self.name = name
    }

    func bool(_ key: String) throws -> Bool {
        guard let raw = values[key], JSONValue.isBoolean(raw), let value = raw as? Bool else {
            throw typeError(key, "boolean")
        }
        return value
    }

    func integer(_ key: String, in range: ClosedRange<Int>) throws -> Int {
        guard let raw = values[key], !JSONValue.isBoolean(raw), let value = raw as? Int, range.contains(value) else {
            throw typeError(key, "an integer from \(range.lowerBound) to \(range.upperBound)")
        }
        return value
    }

    func string(_ key: String) throws -> String {
        guard let value = values[key] as? String else { throw typeError(key, "string") }
        return value
    }

    func choice(_ key: String, of allowed: [String]) throws -> String {
        guard let value = values[key] as? String, allowed.contains(value) else {
            throw typeError(key, allowed.count == 1 ? allowed[0] : "one of \(allowed.joined(separator: ", "))")
        }
        return value
    }

    private func typeError(_ key: String, _ expected: String) -> DMSError {
        DMSError.invalidParameter("Invalid task settings JSON: \(name).\(key): expected \(expected); got \(values[key].map { "\($0)" } ?? "null").")
    }
}
