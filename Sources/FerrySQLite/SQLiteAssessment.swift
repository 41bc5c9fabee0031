import FerryCore
import Foundation
import GRDB

/// SQLite's premigration checks; DMS has no SQLite, so every name is Ferry's.
enum SQLiteChecks {
    static func writable(_ role: AssessmentRole) -> AssessmentCheck { AssessmentCheck("ferry-sqlite-writable", role == .source ? .cdc : .fullLoad) }
    static let journalMode = AssessmentCheck("ferry-sqlite-journal-mode", .cdc)
    static let rowidKey = AssessmentCheck("ferry-sqlite-rowid-key", .cdc)
    static let withoutRowid = AssessmentCheck("ferry-sqlite-without-rowid", .cdc)

    /// Every check made in the role (a source file that does not exist gets only the first).
    static func all(_ role: AssessmentRole) -> [AssessmentCheck] {
        [writable(role)] + (role == .source ? [journalMode, rowidKey, withoutRowid] : [])
    }
}

extension SQLiteSource {
    public func assessmentChecks(as role: AssessmentRole) -> [AssessmentCheck] { SQLiteChecks.all(role) }

    public func assess(_ tables: [TableSchema], as role: AssessmentRole) throws -> [AssessmentFinding] {
        let path = url.database ?? ""
        // A target file that does not exist yet is created in its folder.
        let exists = FileManager.default.fileExists(atPath: path)
        let folder = (path as NSString).deletingLastPathComponent
        let writable = FileManager.default.isWritableFile(atPath: exists ? path : (folder.isEmpty ? "." : folder))
        var findings = [AssessmentFinding.check(
            SQLiteChecks.writable(role), problems: writable ? [] : [path],
            passed: "the file is writable", failed: role == .source ? "change data capture installs triggers and a change table in the file" : "the target file cannot be written",
            fix: "give Ferry's user write access to the file and its folder")]
        guard role == .source, exists else { return findings }
        try SQLiteErrors.wrap(url) {
            try open().read { db in
                let mode = try String.fetchOne(db, sql: "PRAGMA journal_mode") ?? ""
                findings.append(.check(SQLiteChecks.journalMode, problems: mode.lowercased() == "wal" ? [] : ["journal_mode = \(mode)"],
                                       failing: .warning, passed: "the file is in WAL mode",
                                       failed: "outside WAL mode Ferry's reads hold the application's commits up",
                                       fix: "PRAGMA journal_mode = WAL"))
                var rowidKeys: [String] = [], withoutRowid: [String] = []
                for table in tables {
                    let sql = try String.fetchOne(db, sql: "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", arguments: [table.id.name]) ?? ""
                    if sql.uppercased().contains("WITHOUT ROWID") {
                        withoutRowid.append(table.id.name)
                    } else if !(table.primaryKey.count == 1 && table.column(named: table.primaryKey[0])?.nativeType.uppercased() == "INTEGER") {
                        rowidKeys.append(table.id.name)
                    }
                }
                findings.append(.check(SQLiteChecks.rowidKey, problems: rowidKeys, failing: .warning,
                                       passed: "every table's key is its rowid (INTEGER PRIMARY KEY)",
                                       failed: "change capture finds rows by rowid, which VACUUM may renumber in these tables",
                                       fix: "do not VACUUM during the migration, or give the tables an INTEGER PRIMARY KEY"))
                findings.append(.check(SQLiteChecks.withoutRowid, problems: withoutRowid,
                                       passed: "no WITHOUT ROWID table", failed: "change capture cannot follow WITHOUT ROWID tables",
                                       fix: "migrate these tables with a full load only"))
            }
        }
        return findings
    }
}
