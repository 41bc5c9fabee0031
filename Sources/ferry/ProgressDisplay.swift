import FerryEngine
import Foundation

/// Shows a full load's progress: a redrawn table on a terminal, plain log lines otherwise.
final class ProgressDisplay: @unchecked Sendable {
    let status: FullLoadStatus
    let interactive: Bool
    let quiet: Bool
    private var drawnLines = 0
    private var reportedStates: [String: TableLoadState] = [:]
    private var lastPlainReport = Date.distantPast

    init(status: FullLoadStatus, interactive: Bool, quiet: Bool) {
        self.status = status
        self.interactive = interactive
        self.quiet = quiet
    }

    func run() async {
        guard !quiet else { return }
        while !Task.isCancelled {
            render()
            try? await Task.sleep(for: .milliseconds(interactive ? 250 : 1000))
        }
    }

    /// Draws the final state once more.
    func finish() {
        guard !quiet else { return }
        render()
    }

    private func render() {
        let tables = status.snapshot()
        if interactive {
            var out = drawnLines > 0 ? "\u{1b}[\(drawnLines)A" : ""
            let lines = tables.map(Self.line)
            for line in lines { out += "\u{1b}[2K" + line + "\n" }
            drawnLines = lines.count
            Terminal.write(out)
        } else {
            let now = Date()
            let periodic = now.timeIntervalSince(lastPlainReport) >= 10
            for table in tables {
                let key = table.source.description
                if reportedStates[key] != table.state || (periodic && table.state == .loading) {
                    reportedStates[key] = table.state
                    Terminal.line(Self.line(table))
                }
            }
            if periodic { lastPlainReport = now }
        }
    }

    static func line(_ t: TableProgress) -> String {
        let name = t.source.description.padding(toLength: 32, withPad: " ", startingAt: 0)
        switch t.state {
        case .queued:
            return "\(name) waiting"
        case .loading:
            let rate = t.rowsPerSecond()
            var text = "\(name) \(t.rowsLoaded) / ~\(t.estimatedRows) rows  \(Format.rate(rate)) rows/s"
            if t.estimatedRows > t.rowsLoaded, rate > 0 {
                text += "  ETA \(Format.duration(Double(t.estimatedRows - t.rowsLoaded) / rate))"
            }
            if t.chunks > 1 { text += "  [\(t.chunksDone)/\(t.chunks) chunks]" }
            return text
        case .completed:
            return "\(name) done: \(t.rowsLoaded) rows in \(Format.duration(t.seconds()))"
        case .failed, .missing, .cancelled:
            return "\(name) \(t.state.rawValue.lowercased()): \(t.error ?? "")"
        }
    }
}

enum Format {
    static func rate(_ value: Double) -> String {
        value >= 10_000 ? String(format: "%.0fk", value / 1000) : String(format: "%.0f", value)
    }

    static func duration(_ seconds: Double) -> String {
        if seconds < 60 { return String(format: "%.1fs", seconds) }
        let s = Int(seconds)
        return s < 3600 ? "\(s / 60)m\(s % 60)s" : "\(s / 3600)h\(s / 60 % 60)m"
    }
}
