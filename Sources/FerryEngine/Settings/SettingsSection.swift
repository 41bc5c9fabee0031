import FerryCore
import Foundation

/// One section of a settings document, read with DMS's default where the user's document leaves a key out,
/// and with errors that name the setting's path and the type expected.
struct SettingsSection {
    let name: String
    private let user: [String: Any]
    private let defaults: [String: Any]

    init(_ name: String, of document: SettingsDocument) {
        self.name = name
        user = document.user[name] as? [String: Any] ?? [:]
        defaults = SettingsDocument.defaults[name] as? [String: Any] ?? [:]
    }

    func bool(_ key: String) throws -> Setting<Bool> {
        try read(key, "boolean") { raw in JSONValue.isBoolean(raw) ? raw as? Bool : nil }
    }

    func integer(_ key: String, in range: ClosedRange<Int>) throws -> Setting<Int> {
        try read(key, "an integer from \(range.lowerBound) to \(range.upperBound)") { raw in
            guard !JSONValue.isBoolean(raw), let value = raw as? Int, range.contains(value) else { return nil }
            return value
        }
    }

    func string(_ key: String) throws -> Setting<String> {
        try read(key, "string") { $0 as? String }
    }

    func choice(_ key: String, of allowed: [String]) throws -> Setting<String> {
        try read(key, allowed.count == 1 ? allowed[0] : "one of \(allowed.joined(separator: ", "))") { raw in
            (raw as? String).flatMap { allowed.contains($0) ? $0 : nil }
        }
    }

    /// The user's value when the document sets the key (null counts as not set), DMS's default otherwise.
    private func read<T>(_ key: String, _ expected: String, _ convert: (Any) -> T?) throws -> Setting<T> {
        let given = user[key].flatMap { $0 is NSNull ? nil : $0 }
        let origin: SettingOrigin = given == nil ? .dmsDefault : .user
        guard let raw = given ?? defaults[key], let value = convert(raw) else {
            throw FerryError.invalidParameter("\(name).\(key)", "expected \(expected); got \((given ?? defaults[key]).map { "\($0)" } ?? "null")")
        }
        return Setting(value: value, origin: origin)
    }
}
