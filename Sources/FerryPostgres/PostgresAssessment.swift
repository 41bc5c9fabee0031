import FerryCore
import Foundation

/// PostgreSQL's premigration checks, under DMS's names where DMS has the check.
struct PostgresChecks {
    let walLevel, slots, privilege: AssessmentCheck
    static let walSenders = AssessmentCheck("postgres-check-maxwalsenders", .cdc)
    static let longTransactions = AssessmentCheck("postgres-check-longrunningtxn", .cutover)
    static let preparedTransactions = AssessmentCheck("postgres-check-preparedtxn", .cdc)
    static let unloggedTables = AssessmentCheck("ferry-postgres-unlogged-tables", .cdc)
    static let largeObjects = AssessmentCheck("ferry-postgres-large-objects", .fullLoad)
    /// Every check made in the role.
    let all: [AssessmentCheck]

    /// A target is checked as the source of the reverse stream (`ferry-postgres-target-…`).
    init(_ role: AssessmentRole) {
        let prefix = role == .source ? "postgres-check" : "ferry-postgres-target"
        let phase: AssessmentPhase = role == .source ? .cdc : .rollback
        walLevel = AssessmentCheck("\(prefix)-wallevel", phase)
        slots = AssessmentCheck("\(prefix)-replication-slots-count", phase)
        privilege = AssessmentCheck("ferry-postgres-\(role == .source ? "" : "target-")replication-privilege", phase)
        all = [walLevel, slots, privilege]
            + (role == .source ? [Self.walSenders, Self.longTransactions, Self.preparedTransactions, Self.unloggedTables, Self.largeObjects] : [])
    }
}

extension PostgresSource {
    public func assessmentChecks(as role: AssessmentRole) -> [AssessmentCheck] { PostgresChecks(role).all }

    public func assess(_ tables: [TableSchema], as role: AssessmentRole) throws -> [AssessmentFinding] {
        let checks = PostgresChecks(role)
        let conn = try PGConnection(url)
        func value(_ sql: String) throws -> String { try conn.query(sql).first?[0] ?? "" }
        let walLevel = try value("SHOW wal_level")
        let freeSlots = Int(try value("SELECT current_setting('max_replication_slots')::int - count(*) FROM pg_replication_slots")) ?? 0
        var findings = [
            AssessmentFinding.check(checks.walLevel, problems: walLevel == "logical" ? [] : ["wal_level = \(walLevel)"],
                                    passed: "wal_level is logical", failed: "logical decoding needs wal_level = logical",
                                    fix: "ALTER SYSTEM SET wal_level = logical; then restart PostgreSQL"),
            AssessmentFinding.check(checks.slots, problems: freeSlots > 0 ? [] : ["max_replication_slots is used up"],
                                    passed: "\(freeSlots) replication slots free", failed: "no replication slot is free for Ferry's",
                                    fix: "ALTER SYSTEM SET max_replication_slots = <more>; then restart, or drop unused slots (pg_drop_replication_slot)"),
            AssessmentFinding.check(checks.privilege, problems: try value("SELECT rolreplication OR rolsuper FROM pg_roles WHERE rolname = current_user") == "t" ? [] : [url.user ?? "the user"],
                                    passed: "the user may replicate", failed: "the user has neither REPLICATION nor SUPERUSER",
                                    fix: "ALTER ROLE \(url.user ?? "<user>") WITH REPLICATION"),
        ]
        guard role == .source else { return findings }
        let senders = Int(try value("SELECT current_setting('max_wal_senders')::int - count(*) FROM pg_stat_replication")) ?? 0
        findings.append(.check(PostgresChecks.walSenders, problems: senders > 0 ? [] : ["max_wal_senders is used up"],
                               passed: "\(senders) WAL senders free", failed: "no WAL sender is free for Ferry's stream",
                               fix: "ALTER SYSTEM SET max_wal_senders = <more>; then restart PostgreSQL"))
        let blockers = try cutoverBlockers(olderThan: 300, asNewPrimary: false)
        findings.append(.check(PostgresChecks.longTransactions, problems: blockers.filter { !$0.contains("prepared") }, failing: .warning,
                               passed: "no writing transaction has been open for more than 5 minutes",
                               failed: "long writing transactions hold up the slot's creation and a cutover's freeze",
                               fix: "commit or end them (pg_terminate_backend) before starting"))
        findings.append(.check(PostgresChecks.preparedTransactions, problems: blockers.filter { $0.contains("prepared") },
                               passed: "no prepared transaction is pending", failed: "prepared transactions keep the slot from starting and commit whenever their coordinator says",
                               fix: "COMMIT PREPARED or ROLLBACK PREPARED them"))
        let names = tables.map { PGConnection.literal(PGConnection.quote($0.id)) }.joined(separator: ", ")
        let unlogged = names.isEmpty ? [] : try conn.query("""
            SELECT format('%I.%I', n.nspname, c.relname) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE c.relpersistence = 'u' AND c.oid IN (SELECT t::regclass FROM unnest(ARRAY[\(names)]) t) ORDER BY 1
            """).compactMap { $0[0] }
        findings.append(.check(PostgresChecks.unloggedTables, problems: unlogged,
                               passed: "every table is logged", failed: "unlogged tables write no WAL, so their changes never reach the stream",
                               fix: "ALTER TABLE … SET LOGGED"))
        let objects = Int(try value("SELECT count(*) FROM pg_largeobject_metadata")) ?? 0
        findings.append(.check(PostgresChecks.largeObjects, problems: objects == 0 ? [] : ["\(objects) large objects"], failing: .warning,
                               passed: "no large objects", failed: "large objects (lo_*) are not tables: Ferry does not copy them",
                               fix: "store them in bytea columns, or copy them separately (pg_dump --large-objects)"))
        return findings
    }
}
