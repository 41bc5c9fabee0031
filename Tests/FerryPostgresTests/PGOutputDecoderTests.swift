@testable import FerryPostgres
import Foundation
import Testing

@Suite("pgoutput decoder, on messages captured from PostgreSQL 15 (scripts/capture-pgoutput-golden.sh)")
struct PGOutputDecoderTests {
    static func golden() throws -> [PGOutputMessage] {
        let url = try #require(Bundle.module.url(forResource: "pgoutput", withExtension: "hex", subdirectory: "Golden"))
        let lines = try String(contentsOf: url, encoding: .utf8).split(separator: "\n")
        return try lines.map { try PGOutputDecoder.decode(Self.bytes(String($0))) }
    }

    static func bytes(_ hex: String) -> [UInt8] {
        var out: [UInt8] = []
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2)
            out.append(UInt8(hex[index..<next], radix: 16)!)
            index = next
        }
        return out
    }

    @Test("transactions, relations, inserts, updates, deletes and truncate decode as the capture script wrote them")
    func goldenMessages() throws {
        let messages = try Self.golden()
        #expect(messages.count == 28)
        guard case .begin = messages[0], case let .relation(items) = messages[1] else {
            Issue.record("expected begin and relation first: \(messages.prefix(2))")
            return
        }
        #expect(items.schema == "public" && items.name == "items")
        #expect(items.replicaIdentity == UInt8(ascii: "d"))
        #expect(items.columns.map(\.name) == ["id", "name", "price", "big", "seen"])
        #expect(items.columns.map(\.isKey) == [true, false, false, false, false])
        #expect(items.columns[0].typeOID == 23 && items.columns[2].typeOID == 1700)

        guard case let .insert(relation, row) = messages[2] else { Issue.record("no insert: \(messages[2])"); return }
        #expect(relation == items.id)
        #expect(row[0] == .text("1"))
        #expect(row[1] == .text("tab\tand 'quote' 🦤"))
        #expect(row[2] == .text("12.50"))
        if case let .text(big) = row[3] { #expect(big.count == 32_000) } else { Issue.record("big value missing") }
        #expect(row[4] == .text("2024-01-02 03:04:05.123456+00"))
        #expect(messages[3] == .insert(relation: items.id, new: [.text("2"), .null, .null, .null, .null]))
        guard case let .commit(commitLSN, endLSN, _) = messages[4], case let .begin(finalLSN, _, _) = messages[0] else {
            Issue.record("no commit: \(messages[4])"); return
        }
        #expect(commitLSN == finalLSN && endLSN > commitLSN)

        // The TOASTed value did not change: pgoutput sends 'u', never the value and never NULL.
        guard case let .update(_, oldKey, updated) = messages[6] else { Issue.record("no update: \(messages[6])"); return }
        #expect(oldKey == nil)
        #expect(updated[2] == .text("13.00"))
        #expect(updated[3] == .unchangedToast)
        // A key change sends the old key ('K') with the other columns null.
        #expect(messages[9] == .update(relation: items.id, old: [.text("2"), .null, .null, .null, .null],
                                       new: [.text("3"), .null, .null, .null, .null]))
        #expect(messages[12] == .delete(relation: items.id, old: [.text("3"), .null, .null, .null, .null]))

        // REPLICA IDENTITY FULL: the whole old row travels ('O').
        guard case let .relation(audit) = messages[15] else { Issue.record("no audit relation"); return }
        #expect(audit.replicaIdentity == UInt8(ascii: "f"))
        #expect(messages[19] == .update(relation: audit.id, old: [.text("1"), .text("first")], new: [.text("1"), .text("second")]))
        #expect(messages[22] == .delete(relation: audit.id, old: [.text("1"), .text("second")]))
        #expect(messages[26] == .truncate(relations: [audit.id], cascade: false, restartIdentity: false))
    }

    @Test("a logical message (Ferry's stream marker), captured from pg_logical_emit_message with messages 'true'")
    func logicalMessage() throws {
        let message = try PGOutputDecoder.decode(Self.bytes("4d01000000006980c5006665727279000000001473746f70206f72646572732d3120616263313233"))
        #expect(message == .message(transactional: true, lsn: LSN(0x6980C500), prefix: "ferry", content: Array("stop orders-1 abc123".utf8)))
        #expect(throws: PGOutputError.self) { try PGOutputDecoder.decode(Self.bytes("4d0100000000006980c50066657272790000000014")) }
    }

    @Test("truncated or unknown messages are errors, never crashes")
    func malformed() throws {
        let url = try #require(Bundle.module.url(forResource: "pgoutput", withExtension: "hex", subdirectory: "Golden"))
        let insert = Self.bytes(String(try String(contentsOf: url, encoding: .utf8).split(separator: "\n")[3]))
        for length in 0..<insert.count {
            #expect(throws: PGOutputError.self) { try PGOutputDecoder.decode(Array(insert.prefix(length))) }
        }
        #expect(throws: PGOutputError.self) { try PGOutputDecoder.decode([UInt8(ascii: "Z")]) }
    }

    @Test("LSNs parse and print as PostgreSQL writes them")
    func lsn() {
        #expect(LSN("16/B374D848")?.value == 0x16_B374_D848)
        #expect(LSN(0x16_B374_D848).description == "16/B374D848")
        #expect(LSN("0/0") == .zero)
        #expect(LSN("nonsense") == nil)
    }
}
