import ArgumentParser
import FerryConnectors
import FerryCore
import FerryEngine
import Foundation

struct Assess: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check, before migrating, what would stand in the way: settings, privileges, keys, types, and the way back after a cutover.",
        discussion: """
        Each check has DMS's individual assessment name where DMS has one (postgres-check-wallevel,
        mysql-check-binlog-format, …) and Ferry's (ferry-…) elsewhere, a status (passed, warning, failed,
        error), the phase a failure blocks, the objects concerned and the fix. Changes nothing. Exit code 0
        means nothing failed, 1 that a check failed, 2 bad input.
        """
    )

    @Option(help: "Source database URL.")
    var source: String

    @Option(help: "Target database URL.")
    var target: String

    @Option(name: .customLong("table-mappings"), help: "The DMS table-mapping JSON file the migration will use.")
    var tableMappings: String?

    @Flag(help: "Print the findings as JSON.")
    var json = false

    func run() async throws {
        let sourceURL: ConnectionURL, targetURL: ConnectionURL, mappings: TableMappings
        do {
            sourceURL = try ConnectionURL.parse(source, field: "--source")
            targetURL = try ConnectionURL.parse(target, field: "--target")
            mappings = try MappingsFile.load(tableMappings)
        } catch let error as FerryError {
            Terminal.error(error.message)
            throw ExitCode(2)
        }
        let runner = AssessmentRunner(source: Connectors.source(for: sourceURL), target: Connectors.target(for: targetURL),
                                      targetAsSource: Connectors.source(for: targetURL), load: FullLoadOptions(mappings: mappings))
        let findings: [AssessmentFinding]
        do { findings = try await runner.run() } catch {
            Terminal.error("\(error)")
            throw ExitCode(1)
        }
        Terminal.line(json ? AssessmentReport.json(findings) : AssessmentReport.text(findings))
        if findings.contains(where: { $0.status >= .failed }) { throw ExitCode(1) }
    }
}

/// How `ferry assess` prints its findings.
enum AssessmentReport {
    static func text(_ findings: [AssessmentFinding]) -> String {
        var lines: [String] = []
        for finding in findings {
            let status = finding.status.rawValue.uppercased().padding(toLength: 8, withPad: " ", startingAt: 0)
            lines.append("\(status) \(finding.name): \(finding.message)" + (finding.status == .passed ? "" : " (blocks \(finding.phase.rawValue))"))
            for object in finding.objects { lines.append("           - \(object)") }
            if !finding.fix.isEmpty, finding.status != .passed { lines.append("           fix: \(finding.fix)") }
        }
        let counts = Dictionary(grouping: findings, by: \.status).mapValues(\.count)
        lines.append("\(findings.count) checks: \(counts[.passed] ?? 0) passed, \(counts[.warning] ?? 0) warnings, \(counts[.failed] ?? 0) failed, \(counts[.error] ?? 0) errors")
        return lines.joined(separator: "\n")
    }

    static func json(_ findings: [AssessmentFinding]) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        return String(decoding: (try? encoder.encode(findings)) ?? Data(), as: UTF8.self)
    }
}
