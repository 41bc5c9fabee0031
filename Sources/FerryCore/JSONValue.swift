import Foundation

/// Facts about values that JSONSerialization returns.
public enum JSONValue {
    /// Whether the value is `true` or `false`. On Linux the numbers 0 and 1 also answer `is Bool`,
    /// so the number's storage type is what tells them apart.
    public static func isBoolean(_ value: Any) -> Bool {
        guard let number = value as? NSNumber else { return value is Bool }
        return String(cString: number.objCType) == "c"
    }
}
