import FerryCore
@testable import FerryPostgres
import Testing

@Suite("binary COPY rows of one column, and the backlog threshold's setting")
struct BinaryCopyRowTests {
    static let header = BinaryCopyRow.signature + [0, 0, 0, 0] + [0, 0, 0, 0]

    static func row(_ field: [UInt8]) -> [UInt8] {
        let length = UInt32(field.count)
        return [0, 1] + [24, 16, 8, 0].map { UInt8(truncatingIfNeeded: length >> UInt32($0)) } + field
    }

    static func field(_ message: [UInt8], first: Bool) throws -> [UInt8]? {
        try message.withUnsafeBytes { try BinaryCopyRow.field(of: $0, first: first) }
    }

    @Test("the first message carries the header before its row; later rows and the trailer do not")
    func rowsAndTrailer() throws {
        #expect(try Self.field(Self.header + Self.row([7, 8, 9]), first: true) == [7, 8, 9])
        #expect(try Self.field(Self.row([]), first: false) == [])
        #expect(try Self.field([0xFF, 0xFF], first: false) == nil)
        // No rows at all: the header and the trailer come in one message.
        #expect(try Self.field(Self.header + [0xFF, 0xFF], first: true) == nil)
    }

    @Test("a wrong signature, a NULL field, two fields or a short row are errors, not rows")
    func malformed() {
        #expect(throws: PGOutputError.self) { try Self.field(Self.row([1]), first: true) }
        #expect(throws: PGOutputError.self) { try Self.field([0, 1, 0xFF, 0xFF, 0xFF, 0xFF], first: false) }
        #expect(throws: PGOutputError.self) { try Self.field([0, 2, 0, 0, 0, 0, 0, 0, 0, 0], first: false) }
        #expect(throws: PGOutputError.self) { try Self.field([0, 1, 0, 0, 0, 9, 1, 2], first: false) }
    }

    @Test("sql_backlog_bytes takes bytes or off; anything else is refused, naming the setting")
    func threshold() throws {
        for given in ["0", "1048576", "off"] {
            _ = try PostgresCapture(url: ConnectionURL.parse("postgres://u@h/db?sql_backlog_bytes=\(given)"), task: "t", schemas: [])
        }
        let error = #expect(throws: FerryError.self) {
            try PostgresCapture(url: ConnectionURL.parse("postgres://u@h/db?sql_backlog_bytes=16MB"), task: "t", schemas: [])
        }
        #expect(error?.kind == .invalidParameter && error?.message.contains("sql_backlog_bytes") == true)
    }
}
