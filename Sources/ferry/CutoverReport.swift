import FerryEngine
import Foundation

/// How `ferry cutover` and `ferry rollback` print their record.
enum CutoverReport {
    static func json(_ record: CutoverRecord) -> String {
        String(decoding: (try? CutoverRecord.encoder.encode(record)) ?? Data(), as: UTF8.self)
    }

    static func text(_ record: CutoverRecord, rollback: Bool) -> String {
        let what = rollback ? "rollback" : "cutover"
        var lines: [String] = []
        let machine = record.machine
        if machine.dryRun {
            lines.append("dry run of the \(what) of task \(record.task): nothing was changed")
            if let lag = record.lagSeconds { lines.append(String(format: "  lag: a marker reached the target in %.2f s", lag)) }
            lines.append("  writes frozen on: \(record.tables.joined(separator: ", "))")
            lines.append("  steps: \(machine.plannedSteps.map(\.rawValue).joined(separator: " -> "))")
        }
        switch machine.step {
        case .completed? where !machine.dryRun:
            lines.append("\(what) \(record.id) of task \(record.task) completed: the target has every change; move the application now")
            if let pause = record.writePauseSeconds { lines.append(String(format: "  write pause: %.3f s (%@)", pause, record.freezeMethod ?? "-")) }
            if let stop = record.stopPosition { lines.append("  stopped task \(record.task) at source position \(stop)") }
            if machine.reverseRunning { lines.append("  replicating back as task \(record.reverseTask), from \(machine.reversePosition ?? "-")") }
        case .aborted?:
            let refused = machine.failedStep == nil
            lines.append("\(what) of task \(record.task) \(refused ? "refused" : "undone at \(machine.failedStep!.rawValue)"): the source stays the database to write to")
            lines += machine.reasons.map { "  - \($0)" }
        default:
            break
        }
        for step in machine.plannedSteps {
            if let seconds = record.stepSeconds[step.rawValue] {
                lines.append("  " + step.rawValue.padding(toLength: 18, withPad: " ", startingAt: 0) + String(format: "%.3f s", seconds))
            }
        }
        lines += record.warnings.map { "  warning: \($0)" }
        return lines.joined(separator: "\n")
    }
}
