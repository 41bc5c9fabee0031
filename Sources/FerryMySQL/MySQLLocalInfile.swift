import CMariaDB
import FerryCore
import Foundation

/// The bytes a `LOAD DATA LOCAL INFILE` statement reads, served from memory by Connector/C's local-infile
/// callbacks: no file is written, and a server asking for a file by name gets these bytes (or none),
/// never a file of the client's disk.
final class LocalInfileData: @unchecked Sendable {
    var bytes: [UInt8] = []
    var offset = 0

    /// Installs the callbacks on `handle`, which read from `data` (kept alive by its connection).
    static func install(on handle: UnsafeMutablePointer<MYSQL>, _ data: LocalInfileData) {
        mysql_set_local_infile_handler(handle, { state, _, data in
            state?.pointee = data
            return 0
        }, { state, buffer, length in
            guard let state, let buffer else { return -1 }
            let data = Unmanaged<LocalInfileData>.fromOpaque(state).takeUnretainedValue()
            let count = min(Int(length), data.bytes.count - data.offset)
            data.bytes.withUnsafeBytes { bytes in
                UnsafeMutableRawPointer(buffer).copyMemory(from: bytes.baseAddress! + data.offset, byteCount: count)
            }
            data.offset += count
            return Int32(count)
        }, { _ in }, { _, _, _ in 0 }, Unmanaged.passUnretained(data).toOpaque())
    }
}

extension MySQLConnection {
    /// Runs a `LOAD DATA LOCAL INFILE` statement that reads `data` from memory; the connection must have
    /// been opened with `localInfile`. Returns the server's warning count: LOCAL makes the server skip a
    /// row it cannot store, with a warning, where an INSERT fails.
    func loadLocal(_ sql: String, data: [UInt8]) throws -> UInt32 {
        infile.bytes = data
        infile.offset = 0
        defer { infile.bytes = [] }
        try execute(sql)
        return mysql_warning_count(handle)
    }

    /// Whether the server takes `LOAD DATA LOCAL` (its `local_infile` setting).
    func acceptsLocalInfile() throws -> Bool {
        try query("SELECT @@GLOBAL.local_infile").first?[0] == "1"
    }
}
