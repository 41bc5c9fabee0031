import FerryCore

/// What an assessment run's checks came to, in DMS's terms: each individual assessment's status, the
/// run's statistic and its final status. Pure.
struct AssessmentRunOutcome {
    /// Each selected check's status: `pending` before the run ends, then passed, warning, failed or
    /// error; `skipped` when it did not apply (a SQLite file that does not exist yet), `cancelled` when
    /// the run was cancelled before it ended.
    var individual: [(name: String, status: String)]
    var statistic: ReplicationTaskAssessmentRunResultStatistic
    /// `passed`, `warning` or `failed` once ended (DMS's run statuses); nil before.
    var status: String?

    init(selected: [String], findings: [AssessmentFinding]?, cancelled: Bool = false) {
        let byName = Dictionary((findings ?? []).map { ($0.name, $0.status) }) { worse, other in max(worse, other) }
        individual = selected.map { name in
            guard findings != nil else { return (name, "pending") }
            if cancelled { return (name, "cancelled") }
            return (name, byName[name]?.rawValue ?? "skipped")
        }
        let statuses = individual.map(\.status)
        func count(_ status: String) -> Int { statuses.filter { $0 == status }.count }
        statistic = ReplicationTaskAssessmentRunResultStatistic(
            Passed: count("passed"), Failed: count("failed"), Error: count("error"), Warning: count("warning"),
            Cancelled: count("cancelled"), Skipped: count("skipped"))
        guard findings != nil else {
            status = nil
            return
        }
        // DMS: a run passes when no individual assessment failed; one that could not run counts as failed.
        if cancelled || statistic.Failed! + statistic.Error! > 0 {
            status = "failed"
        } else {
            status = statistic.Warning! > 0 ? "warning" : "passed"
        }
    }

    /// How many checks have an outcome.
    var completed: Int { individual.filter { $0.status != "pending" }.count }
}
