import Foundation

/// Writes on a source's migrated tables held off for a cutover, by a session of Ferry's own. The source
/// bounds the freeze by itself (a lock and idle timeout on the session, a transaction that dies with the
/// process), so a Ferry that crashes or hangs never leaves the source frozen past the cutover's timeout.
/// Every call blocks.
public protocol WriteFreeze: AnyObject, Sendable {
    /// How the writes are held off, for the report (`LOCK TABLE … IN EXCLUSIVE MODE`).
    var method: String { get }

    /// Writes `marker` into the change stream and returns the position a target must have applied to have
    /// every change committed before the freeze (compare with ``SourceConnector/position(_:covers:)``).
    func write(_ marker: StreamMarker) throws -> String

    /// Fences the frozen tables for good, committed with the release: every write but a Ferry applier's
    /// (the reverse stream's) is refused with `note`, so a writer that waited on the freeze, or one still
    /// pointed at the old database, fails rather than writes where nobody reads.
    func fence(note: String) throws

    /// Lets writes go on again, committing what the freeze wrote (the fence, SQLite's stop marker).
    /// Idempotent; the freeze also ends when its session does.
    func release() throws

    /// Lets writes go on again and rolls back what the freeze wrote: an undo.
    func abandon() throws
}
