import FerryAPI
import Foundation

/// How `ferry cutover` and `ferry rollback` print a cutover, the same whether it ran here or in a server.
enum CutoverReport {
    static func json(_ cutover: CutoverDescription) -> String {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        return String(decoding: (try? encoder.encode(cutover)) ?? Data(), as: UTF8.self)
    }

    static func text(_ cutover: CutoverDescription, rollback: Bool) -> String {
        let what = rollback ? "rollback" : "cutover"
        let task = cutover.ReplicationTaskArn
        var lines: [String] = []
        if cutover.DryRun {
            lines.append("dry run of the \(what) of task \(task): nothing was changed")
            if let lag = cutover.LagSeconds { lines.append(String(format: "  lag: a marker reached the target in %.2f s", lag)) }
            lines.append("  writes frozen on: \(cutover.Tables.joined(separator: ", "))")
            lines.append("  steps: \(cutover.PlannedSteps.joined(separator: " -> "))")
        }
        switch cutover.Status {
        case "completed" where !cutover.DryRun:
            lines.append("\(what) \(cutover.CutoverId) of task \(task) completed: the target has every change; move the application now")
            if let pause = cutover.WritePauseSeconds { lines.append(String(format: "  write pause: %.3f s (%@)", pause, cutover.FreezeMethod ?? "-")) }
            if let stop = cutover.StopPosition { lines.append("  stopped task \(task) at source position \(stop)") }
            if cutover.ReverseReplicationRunning {
                lines.append("  replicating back as task \(cutover.ReverseReplicationTaskIdentifier), from \(cutover.ReversePosition ?? "-")")
            }
        case "aborted":
            let how = cutover.FailedStep.map { "undone at \($0)" } ?? "refused"
            lines.append("\(what) of task \(task) \(how): the source stays the database to write to")
            lines += cutover.Reasons.map { "  - \($0)" }
        default:
            break
        }
        for step in cutover.PlannedSteps {
            if let seconds = cutover.StepSeconds[step] {
                lines.append("  " + step.padding(toLength: 18, withPad: " ", startingAt: 0) + String(format: "%.3f s", seconds))
            }
        }
        lines += cutover.Warnings.map { "  warning: \($0)" }
        return lines.joined(separator: "\n")
    }
}
