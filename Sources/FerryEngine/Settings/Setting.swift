import FerryCore

/// Who decided a setting's value.
public enum SettingOrigin: Sendable, Equatable {
    /// The task's own settings document sets it.
    case user
    /// The document leaves it out, so DMS's default stands (and is shown).
    case dmsDefault
}

/// One task setting's value with its origin. A rule that would lose, cut or skip data under DMS's default
/// reads ``userValue`` and falls back to Ferry's safe behaviour when the user did not ask.
public struct Setting<Value: Sendable>: Sendable {
    public let value: Value
    public let origin: SettingOrigin

    public init(value: Value, origin: SettingOrigin) {
        self.value = value
        self.origin = origin
    }

    /// The value when the user set it; nil when it is DMS's default.
    public var userValue: Value? { origin == .user ? value : nil }
}

extension Setting: Equatable where Value: Equatable {}
