/// A marker Ferry writes into a source's change stream while the source's writes are frozen, so that a
/// replication run reading the stream learns where the freeze began, on a busy or an idle source alike:
/// a `sync` marker is applied like an empty transaction (its position proves the target caught up), a
/// `stop` marker ends the named task's run there (the cutover's point of no return).
public struct StreamMarker: Sendable, Equatable, Codable {
    public enum Kind: String, Sendable, Codable {
        case sync, stop
    }

    public var kind: Kind
    /// The replication task the marker is meant for; every other task reading the source applies it as an
    /// empty transaction.
    public var task: String
    /// The cutover that wrote it.
    public var cutover: String

    public init(_ kind: Kind, task: String, cutover: String) {
        self.kind = kind
        self.task = task
        self.cutover = cutover
    }

    /// The prefix of every marker's text (PostgreSQL's logical message prefix).
    public static let prefix = "ferry"

    /// The marker as the text written into the stream: `sync <task> <cutover>`.
    public var text: String { "\(kind.rawValue) \(task) \(cutover)" }

    /// Reads a marker's text; nil for anything Ferry did not write.
    public init?(text: String) {
        let parts = text.split(separator: " ", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 3, let kind = Kind(rawValue: parts[0]), !parts[1].isEmpty, !parts[2].isEmpty else { return nil }
        self.init(kind, task: parts[1], cutover: parts[2])
    }

    /// Whether this marker stops `task`'s run.
    public func stops(_ task: String) -> Bool { kind == .stop && self.task == task }
}
