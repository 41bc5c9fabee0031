import CLibPQ
import FerryCore
import Foundation

/// The streaming half of a replication connection: START_REPLICATION's CopyBoth exchange.
extension PGConnection {
    /// Runs a command that starts a CopyBoth stream (`START_REPLICATION`).
    func startCopyBoth(_ sql: String) throws {
        let result = PQexec(handle, sql)
        defer { PQclear(result) }
        guard PQresultStatus(result) == PGRES_COPY_BOTH else {
            try check(result, sql: sql)
            throw FerryError(.database, "PostgreSQL \(location): \(sql) did not start streaming")
        }
    }

    /// The next CopyData message of the stream, or nil when none arrives within `timeout` seconds.
    /// Throws when the server ends the stream or the connection breaks.
    func readCopyData(timeout: Double) throws -> [UInt8]? {
        var waited = false
        while true {
            var buffer: UnsafeMutablePointer<CChar>?
            let length = PQgetCopyData(handle, &buffer, 1)
            if length > 0, let buffer {
                defer { PQfreemem(buffer) }
                return Array(UnsafeRawBufferPointer(start: buffer, count: Int(length)))
            }
            if length == -1 {
                // The stream ended: a shutdown or a lost connection is retried; an error the server
                // reported about the stream itself (a missing publication) is not.
                var failure = FerryError(.connectionFailed, "PostgreSQL \(location): the server ended the replication stream")
                while let result = PQgetResult(handle) {
                    defer { PQclear(result) }
                    do { try check(result, sql: "START_REPLICATION") } catch let error as FerryError { failure = error }
                }
                throw failure
            }
            if length == -2 { throw FerryError(.connectionFailed, "PostgreSQL \(location): \(Self.trimmed(String(cString: PQerrorMessage(handle))))") }
            if waited { return nil }
            var descriptor = pollfd(fd: PQsocket(handle), events: Int16(POLLIN), revents: 0)
            let ready = poll(&descriptor, 1, Int32(timeout * 1000))
            if ready < 0, errno != EINTR { throw FerryError(.connectionFailed, "PostgreSQL \(location): poll failed (errno \(errno))") }
            if PQconsumeInput(handle) == 0 {
                throw FerryError(.connectionFailed, "PostgreSQL \(location): \(Self.trimmed(String(cString: PQerrorMessage(handle))))")
            }
            waited = ready == 0
        }
    }

    /// Sends one CopyData message on the stream.
    func sendCopyData(_ bytes: [UInt8]) throws {
        let sent = bytes.withUnsafeBufferPointer { buffer in
            buffer.baseAddress!.withMemoryRebound(to: CChar.self, capacity: buffer.count) {
                PQputCopyData(handle, $0, Int32(buffer.count))
            }
        }
        guard sent == 1, PQflush(handle) == 0 else {
            throw FerryError(.connectionFailed, "PostgreSQL \(location): \(Self.trimmed(String(cString: PQerrorMessage(handle))))")
        }
    }
}
