import FerryCore
import Foundation

/// `ferry cutover --complete`: the migration is over for good. Removes what Ferry left on both sides — the
/// reverse task's capture on the new database (slot and publication, or triggers and change table), any
/// forward capture left on the old one, the write fences, and both tasks' control rows. The reverse
/// replication must be stopped first.
public struct CutoverCompletion: Sendable {
    /// The old database (the cutover's source), read and written.
    public let source: any SourceConnector
    public let sourceAsTarget: any TargetConnector
    /// The new database (the cutover's target).
    public let target: any TargetConnector
    public let targetAsSource: any SourceConnector
    public let load: FullLoadOptions
    public let task: String
    public let reverseTask: String

    public init(source: any SourceConnector, sourceAsTarget: any TargetConnector, target: any TargetConnector,
                targetAsSource: any SourceConnector, load: FullLoadOptions, task: String, reverseTask: String) {
        self.source = source
        self.sourceAsTarget = sourceAsTarget
        self.target = target
        self.targetAsSource = targetAsSource
        self.load = load
        self.task = task
        self.reverseTask = reverseTask
    }

    /// Removes everything; returns one line per thing removed.
    public func run() async throws -> [String] {
        try await BlockingWork.run("ferry-cutover-complete") { [self] in
            let plans = try FullLoadRunner(source: source, target: target, options: load, status: FullLoadStatus()).discoverPlans()
            do {
                try targetAsSource.openCapture(task: reverseTask, schemas: []).drop()
            } catch let error as FerryError where error.message.contains("is active") {
                throw FerryError(.invalidParameter, "the reverse replication (task \(reverseTask)) still reads the new database: stop it first (\(error.message))")
            }
            try source.openCapture(task: task, schemas: plans.map(\.source)).drop()
            try sourceAsTarget.removeWriteFence(plans.map(\.source.id))
            try target.removeWriteFence(plans.map { target.normalize($0.written.target) })
            for (database, name) in [(target, task), (sourceAsTarget, reverseTask)] {
                let applier = try database.openApplier(controlSchema: load.controlSchema)
                defer { applier.close() }
                try applier.forget(task: name)
            }
            return ["the reverse capture of task \(reverseTask) on the new database", "the capture of task \(task) on the old database",
                    "the write fences of \(plans.count) tables on both databases", "the control rows of both tasks"]
        }
    }
}
