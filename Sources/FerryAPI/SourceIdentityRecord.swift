import FerryCatalog
import FerryCore
import Foundation
import Logging

/// The source a task's stream read last (``SourceIdentity``), kept in the catalog with the task so that
/// its next run, on any node, sees a failover that happened while it was stopped.
enum SourceIdentityRecord {
    static let document = "source-identity"

    /// What the task's last run recorded; nil before any.
    static func last(_ arn: String, catalog: Catalog) -> SourceIdentity? {
        guard let text = try? catalog.document(document, for: arn) else { return nil }
        return try? JSONDecoder().decode(SourceIdentity.self, from: Data(text.utf8))
    }

    /// Records `identity` (what a run's stream last saw) when it differs from `earlier`, what the catalog
    /// holds, with an event naming a failover in between; returns what the catalog holds now.
    @discardableResult
    static func update(_ identity: SourceIdentity?, since earlier: SourceIdentity?, arn: String, task: String,
                       catalog: Catalog, events: TaskEventRecorder) -> SourceIdentity? {
        guard let identity, identity != earlier else { return earlier }
        if let earlier, let change = identity.change(since: earlier) {
            switch change {
            case let .failover(what), let .unrelated(what):
                events.record(task, "The source changed: \(what). Now reading \(identity.description).", ["state change"])
            }
        }
        do {
            try catalog.setDocument(String(decoding: try JSONEncoder().encode(identity), as: UTF8.self), name: document, for: arn)
        } catch {
            Logger(label: "ferry.tasks").error("cannot record the source of \(arn): \(error)")
            return earlier
        }
        return identity
    }
}
