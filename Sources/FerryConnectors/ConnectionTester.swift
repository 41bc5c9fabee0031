import FerryCore
import FerryMySQL
import FerryPostgres
import Foundation

/// Tries a real connection to an endpoint, as DMS's TestConnection does.
public enum ConnectionTester {
    /// Connects and runs a trivial query; for SQLite, checks the file (source) or its folder (target).
    /// Throws the driver's error, which names the server and the reason.
    public static func test(_ url: ConnectionURL, asSource: Bool) throws {
        switch url.engine {
        case .postgres:
            _ = try PGConnection(url).query("SELECT 1")
        case .mysql:
            _ = try MySQLConnection(url).query("SELECT 1")
        case .sqlite:
            let path = url.database ?? ""
            if asSource {
                guard FileManager.default.isReadableFile(atPath: path) else {
                    throw FerryError(.connectionFailed, "SQLite \(path): the file does not exist or cannot be read")
                }
            } else {
                let folder = (path as NSString).deletingLastPathComponent
                guard FileManager.default.isWritableFile(atPath: folder.isEmpty ? "." : folder) else {
                    throw FerryError(.connectionFailed, "SQLite \(path): the folder \(folder) does not exist or cannot be written")
                }
            }
        }
    }
}
