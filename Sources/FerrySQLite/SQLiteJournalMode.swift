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
/// would otherwise hold a load for minutes behind a connection that never lets go.
enum SQLiteJournalMode {
    /// Switches the file to a rollback journal if no other connection has it open (leaving WAL needs
    /// that); true when it did. Call it outside a transaction.
    static func leaveWAL(_ db: Database) -> Bool {
        withoutBusyWait(db) { (try? String.fetchOne(db, sql: "PRAGMA main.journal_mode = DELETE"))?.lowercased() == "delete" }
    }

    /// Puts the file back in WAL mode, trying again for up to `wait` seconds while another connection holds
    /// a lock. A connection opened in the meantime waits for the switch too
    /// (``SQLiteTarget/open(keepingTransactionsOpen:)``), and makes it itself if this one gives up.
    static func restoreWAL(_ db: Database, wait: Double) {
        let deadline = Date().addingTimeInterval(wait)
        withoutBusyWait(db) {
            while (try? String.fetchOne(db, sql: "PRAGMA main.journal_mode = WAL"))?.lowercased() != "wal", Date() < deadline {
                Thread.sleep(forTimeInterval: 0.01)
            }
        }
    }

    /// Runs `body` with the connection's busy handler off, then puts ``SQLiteTarget/eagerBusyWait`` back (the
    /// only busy mode of a target's connections).
    private static func withoutBusyWait<T>(_ db: Database, _ body: () -> T) -> T {
        sqlite3_busy_timeout(db.sqliteConnection, 0)
        defer { sqlite3_busy_handler(db.sqliteConnection, eagerBusyHandler, nil) }
        return body()
    }

    private static let eagerBusyHandler: @convention(c) (UnsafeMutableRawPointer?, Int32) -> Int32 = { _, tries in
        SQLiteTarget.eagerBusyWait(Int(tries)) ? 1 : 0
    }
}
