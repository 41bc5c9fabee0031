import Foundation

/// The messages of a streaming replication connection (inside CopyData), and the client's status update.
/// Pure: bytes in, values out, and back.
enum ReplicationMessage: Equatable {
    /// WAL data: a pgoutput message starting at `walStart`.
    case xlogData(walStart: LSN, walEnd: LSN, payload: [UInt8])
    /// The server's heartbeat; it wants a status update at once when `replyRequested`.
    case keepalive(walEnd: LSN, replyRequested: Bool)

    static func parse(_ bytes: [UInt8]) throws -> ReplicationMessage {
        var reader = ByteReader(bytes)
        switch try reader.uint8() {
        case UInt8(ascii: "w"):
            let start = LSN(try reader.uint64())
            let end = LSN(try reader.uint64())
            _ = try reader.uint64()
            return .xlogData(walStart: start, walEnd: end, payload: Array(try reader.bytes(reader.remaining)))
        case UInt8(ascii: "k"):
            let end = LSN(try reader.uint64())
            _ = try reader.uint64()
            return .keepalive(walEnd: end, replyRequested: try reader.uint8() == 1)
        case let tag:
            throw PGOutputError.malformed("unknown replication message \(tag)")
        }
    }

    /// A standby status update: everything up to `flushed` is durable on the target, so the server may
    /// release the WAL before it.
    static func statusUpdate(written: LSN, flushed: LSN, at time: Date) -> [UInt8] {
        var out: [UInt8] = [UInt8(ascii: "r")]
        func append(_ value: UInt64) { for shift in stride(from: 56, through: 0, by: -8) { out.append(UInt8(truncatingIfNeeded: value >> UInt64(shift))) } }
        append(written.value)
        append(flushed.value)
        append(flushed.value)
        append(UInt64(bitPattern: Int64(time.timeIntervalSince(PGOutputDecoder.postgresEpoch) * 1_000_000)))
        out.append(0)
        return out
    }
}
