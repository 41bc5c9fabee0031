import FerryCore
import Foundation

/// MySQL/MariaDB's premigration checks, under DMS's names where DMS has the check.
struct MySQLChecks {
    let binlogEnabled, binlogFormat, binlogImage, serverID: AssessmentCheck
    static let binlogExpiry = AssessmentCheck("mysql-check-expire-logs-days", .cdc)
    static let storageEngine = AssessmentCheck("mysql-check-table-storage-engine", .fullLoad)
    static let longTransactions = AssessmentCheck("ferry-mysql-longrunningtxn", .cutover)
    /// Every check made in the role.
    let all: [AssessmentCheck]

    /// A target is checked as the source of the reverse stream (`ferry-mysql-target-…`).
    init(_ role: AssessmentRole) {
        let prefix = role == .source ? "mysql-check" : "ferry-mysql-target"
        let phase: AssessmentPhase = role == .source ? .cdc : .rollback
        binlogEnabled = AssessmentCheck("\(prefix)-binlog-enabled", phase)
        binlogFormat = AssessmentCheck("\(prefix)-binlog-format", phase)
        binlogImage = AssessmentCheck("\(prefix)-binlog-image", phase)
        serverID = AssessmentCheck("\(prefix)-server-id", phase)
        all = [binlogEnabled, binlogFormat, binlogImage, serverID]
            + (role == .source ? [Self.binlogExpiry, Self.storageEngine, Self.longTransactions] : [])
    }
}

extension MySQLSource {
    public func assessmentChecks(as role: AssessmentRole) -> [AssessmentCheck] { MySQLChecks(role).all }

    public func assess(_ tables: [TableSchema], as role: AssessmentRole) throws -> [AssessmentFinding] {
        let checks = MySQLChecks(role)
        let conn = try MySQLConnection(url, databaseMayBeMissing: true)
        // A variable one flavour lacks (MySQL's or MariaDB's) reads as empty.
        func value(_ sql: String) -> String { ((try? conn.query(sql))?.first?[0] ?? nil) ?? "" }
        let logBin = value("SELECT @@log_bin"), format = value("SELECT @@binlog_format").uppercased()
        let image = value("SELECT @@binlog_row_image").uppercased(), serverID = value("SELECT @@server_id")
        var findings = [
            AssessmentFinding.check(checks.binlogEnabled, problems: ["1", "ON"].contains(logBin.uppercased()) ? [] : ["log_bin = \(logBin)"],
                                    passed: "the binlog is on", failed: "change data capture reads the binlog, which is off",
                                    fix: "start the server with --log-bin"),
            .check(checks.binlogFormat, problems: format == "ROW" ? [] : ["binlog_format = \(format)"],
                   passed: "binlog_format is ROW", failed: "change data capture needs row events",
                   fix: "SET GLOBAL binlog_format = 'ROW' (and in the server's configuration)"),
            .check(checks.binlogImage, problems: image == "FULL" ? [] : ["binlog_row_image = \(image)"],
                   passed: "binlog_row_image is FULL", failed: "change data capture needs every column's old and new value",
                   fix: "SET GLOBAL binlog_row_image = 'FULL' (and in the server's configuration)"),
            .check(checks.serverID, problems: serverID == "0" ? ["server_id = 0"] : [],
                   passed: "server_id is \(serverID)", failed: "a server with server_id 0 serves no binlog reader",
                   fix: "SET GLOBAL server_id = <a unique number>"),
        ]
        guard role == .source else { return findings }
        let expiry = Int(value("SELECT @@binlog_expire_logs_seconds")) ?? (Int(value("SELECT @@expire_logs_days")) ?? 0) * 86_400
        findings.append(.check(MySQLChecks.binlogExpiry, problems: expiry == 0 || expiry >= 86_400 ? [] : ["binlogs expire after \(expiry) s"],
                               failing: .warning, passed: "binlogs are kept at least a day", failed: "a task stopped for longer than the binlog's expiry must reload",
                               fix: "SET GLOBAL binlog_expire_logs_seconds = 86400 (or more)"))
        let names = tables.map { "(\(MySQLConnection.literal($0.id.schema)), \(MySQLConnection.literal($0.id.name)))" }.joined(separator: ", ")
        let engines = names.isEmpty ? [] : try conn.query("""
            SELECT CONCAT(TABLE_SCHEMA, '.', TABLE_NAME, ' (', ENGINE, ')') FROM information_schema.TABLES
            WHERE (TABLE_SCHEMA, TABLE_NAME) IN (\(names)) AND ENGINE <> 'InnoDB' ORDER BY 1
            """).compactMap { $0[0] }
        findings.append(.check(MySQLChecks.storageEngine, problems: engines, failing: .warning,
                               passed: "every table is InnoDB", failed: "tables outside InnoDB are not read in one consistent snapshot with the binlog position",
                               fix: "ALTER TABLE … ENGINE = InnoDB"))
        let blockers = try cutoverBlockers(olderThan: 300, asNewPrimary: false)
        findings.append(.check(MySQLChecks.longTransactions, problems: blockers, failing: .warning,
                               passed: "no writing or XA transaction is left open", failed: "long or prepared transactions hold up a cutover's freeze",
                               fix: "commit or end them (KILL, XA COMMIT / XA ROLLBACK)"))
        return findings
    }
}
