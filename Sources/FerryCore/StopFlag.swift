import Foundation

/// A flag set once, from any thread: how a long-running loop on its own thread learns to stop.
public final class StopFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false

    public init() {}

    /// Sets the flag; false when it was set already.
    @discardableResult
    public func set() -> Bool { lock.withLock { defer { value = true }; return !value } }

    public var isSet: Bool { lock.withLock { value } }
}
