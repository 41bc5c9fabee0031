import FerryCore
import Foundation

/// Where an assessment run's report goes: the folder DMS would write in S3, under the data folder,
/// `assessment-results/<bucket>/<folder>/<run name>/`, holding `summary.json` (the run as Describe
/// returns it, with each check's status) and one `<check>.json` per finding.
struct AssessmentReportLocation {
    let directory: URL

    init(_ run: ReplicationTaskAssessmentRun, dataDirectory: URL) {
        var directory = dataDirectory.appendingPathComponent("assessment-results").appendingPathComponent(run.ResultLocationBucket ?? "")
        for part in (run.ResultLocationFolder ?? "").split(separator: "/") { directory.appendPathComponent(String(part)) }
        self.directory = directory.appendingPathComponent(run.AssessmentRunName ?? "")
    }

    /// S3's bucket names (3 to 63 lower-case letters, digits, dots and hyphens) and a folder of `/`-separated
    /// names without `.` or `..`: a report never lands outside its folder.
    static func validate(bucket: String, folder: String?) throws {
        let allowed = Set("abcdefghijklmnopqrstuvwxyz0123456789.-")
        guard (3...63).contains(bucket.count), bucket.allSatisfy(allowed.contains), bucket.first != ".", bucket.first != "-" else {
            throw DMSError.invalidParameter("ResultLocationBucket must be 3 to 63 lower-case letters, digits, dots and hyphens; got '\(bucket)'.")
        }
        if let folder, folder.split(separator: "/").contains(where: { $0 == "." || $0 == ".." }) {
            throw DMSError.invalidParameter("ResultLocationFolder cannot contain '.' or '..'; got '\(folder)'.")
        }
    }

    struct Summary: Encodable {
        var run: ReplicationTaskAssessmentRun
        var individualAssessments: [String: String]
    }

    func write(_ run: ReplicationTaskAssessmentRun, findings: [AssessmentFinding]) throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.dateEncodingStrategy = .iso8601
        let statuses = Dictionary(findings.map { ($0.name, $0.status.rawValue) }) { a, _ in a }
        try encoder.encode(Summary(run: run, individualAssessments: statuses)).write(to: directory.appendingPathComponent("summary.json"), options: .atomic)
        for finding in findings {
            try encoder.encode(finding).write(to: directory.appendingPathComponent("\(finding.name).json"), options: .atomic)
        }
    }

    func remove() throws {
        if FileManager.default.fileExists(atPath: directory.path) { try FileManager.default.removeItem(at: directory) }
    }
}
