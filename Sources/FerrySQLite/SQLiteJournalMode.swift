import Foundation
import GRDB
import GRDBSQLite

/// The target file's journal. Ferry keeps its SQLite targets in WAL mode, where readers never wait for the
/// writer. For a table copied whole from an attached file it switches to a rollback journal when it can:
/// in WAL mode every page is written twice (to the WAL, then again at the checkpoint), while with a
/// rollback journal the pages a copy adds past the file's end are written once and not journaled. A crash
/// in either mode rolls the copy's transaction back, so `synchronous` stays as it is.
///
/// Both switches need the file's exclusive lock and are tried without the connection's busy wait, which
/// would otherwise hold a load for minutes behind a connection that never lets go. Every connection Ferry
/// opens to a target enters WAL mode the same way (``SQLiteTarget/open(keepingTransactionsOpen:)``), so one
/// opened while a copy holds the file in rollback mode waits for the copy to put WAL back.
enum SQLiteJournalMode {
    /// Switches the file to a rollback journal if no other connection has it open (leaving WAL needs
    /// that); true when it did. Call it outside a transaction.
    static func leaveWAL(_ db: Database) -> Bool {
        withoutBusyWait(db) { (try? String.fetchOne(db, sql: "PRAGMA main.journal_mode = DELETE"))?.lowercased() == "delete" }
    }

    /// Puts the file in WAL mode (when it is not already), trying again for up to `wait` seconds while
    /// another connection holds a lock: SQLite refuses the switch at once then. Throws SQLite's error after
    /// that, and any other error at once.
    static func enterWAL(_ db: Database, wait: Double) throws {
        let deadline = Date().addingTimeInterval(wait)
        try withoutBusyWait(db) {
            while true {
                do {
                    if try String.fetchOne(db, sql: "PRAGMA main.journal_mode")?.lowercased() == "wal" { return }
                    try db.execute(sql: "PRAGMA main.journal_mode = WAL")
                    return
                } catch let error as DatabaseError where error.resultCode == .SQLITE_BUSY && Date() < deadline {
                    Thread.sleep(forTimeInterval: 0.01)
                }
            }
        }
    }

    /// Runs `body` with the connection's busy handler off, then puts ``SQLiteTarget/eagerBusyWait`` back (the
    /// only busy mode of a target's connections).
    private static func withoutBusyWait<T>(_ db: Database, _ body: () throws -> T) rethrows -> T {
        sqlite3_busy_timeout(db.sqliteConnection, 0)
        defer { sqlite3_busy_handler(db.sqliteConnection, eagerBusyHandler, nil) }
        return try body()
    }

    private static let eagerBusyHandler: @convention(c) (UnsafeMutableRawPointer?, Int32) -> Int32 = { _, tries in
        SQLiteTarget.eagerBusyWait(Int(tries)) ? 1 : 0
    }
}
