@testable import FerryMySQL
import FerryCore
import Foundation
import Testing

@Suite("binlog decoder, on a binlog file captured from MariaDB 10.11 (scripts/capture-binlog-golden.sh)")
struct BinlogDecoderTests {
    static let table = TableID(schema: "ferry_golden", name: "golden")
    /// The golden table's columns as the catalog describes them.
    static let columns: [(String, ColumnType)] = [
        ("id", .integer(bytes: 4, unsigned: false)), ("i_tiny", .integer(bytes: 1, unsigned: false)),
        ("i_ubig", .integer(bytes: 8, unsigned: true)), ("i_med", .integer(bytes: 3, unsigned: false)), ("i_bool", .boolean),
        ("d", .decimal(precision: 40, scale: 10)), ("d_small", .decimal(precision: 5, scale: 2)), ("f", .float32), ("dbl", .float64),
        ("c", .char(length: 5)), ("vc", .varchar(length: 300)), ("t", .text), ("b", .binary(length: 4)), ("vb", .varbinary(length: 10)),
        ("dt", .timestamp(precision: 6)), ("dt0", .timestamp(precision: 0)), ("tm", .time(precision: 3)), ("tm_big", .time(precision: 6)),
        ("ts", .timestampTZ(precision: 6)), ("dte", .date), ("y", .year), ("e", .enumeration(values: ["x", "y"])),
        ("s", .set(values: ["a", "b", "c"])), ("bits", .bit(length: 10, varying: false)), ("u", .uuid), ("j", .json),
    ]
    static let schema = TableSchema(id: table, engine: .mysql,
                                    columns: columns.map { Column(name: $0.0, type: $0.1, nativeType: "", nullable: true) }, primaryKey: ["id"])

    /// The file's events, each as its bytes.
    static func events() throws -> [[UInt8]] {
        let url = try #require(Bundle.module.url(forResource: "rows", withExtension: "binlog", subdirectory: "Golden"))
        let bytes = [UInt8](try Data(contentsOf: url))
        #expect(Array(bytes.prefix(4)) == [0xfe, 0x62, 0x69, 0x6e], "a binlog file starts with its magic number")
        var events: [[UInt8]] = []
        var offset = 4
        while offset + BinlogEventHeader.size <= bytes.count {
            let size = (9..<13).reversed().reduce(0) { $0 << 8 | Int(bytes[offset + $1]) }
            events.append(Array(bytes[offset..<offset + size]))
            offset += size
        }
        return events
    }

    static func transactions() throws -> [ChangeTransaction] {
        var decoder = BinlogEventDecoder()
        var assembler = BinlogTransactionAssembler(after: BinlogPosition(file: "start", offset: 4), schemas: [schema])
        return try events().compactMap { bytes in
            let (header, event) = try decoder.decode(bytes)
            return try assembler.add(header, event)
        }
    }

    @Test("transactions: DDL alone, an insert, an update moving the key, a delete and insert together")
    func transactionsAndPositions() throws {
        let transactions = try Self.transactions()
        #expect(transactions.map(\.changes.count) == [0, 2, 1, 2, 0])
        #expect(transactions.flatMap(\.changes).map(\.kind) == [.insert, .insert, .update, .delete, .insert])
        // The file was rotated at its end: the last position is the next file's start.
        let positions = try transactions.map { try #require(BinlogPosition($0.position)) }
        #expect(positions.dropLast().allSatisfy { $0.gtids.count == 1 && $0.gtids[0].domain == 0 && $0.gtids[0].server == 1 })
        #expect(zip(positions, positions.dropFirst()).allSatisfy { $0.gtids[0].sequence + 1 == $1.gtids[0].sequence })
        #expect(positions.dropLast().map(\.offset) == [421 + 512, 2658, 4577, 5405])
        let last = try #require(positions.last)
        #expect(last.offset == 5570, "the DDL's position is after its query event")
        #expect(positions.allSatisfy { $0.file == "start" })
    }

    @Test("every value decodes as MySQL's text protocol gives it, NULLs included")
    func values() throws {
        let changes = try Self.transactions().flatMap(\.changes)
        #expect(changes[0].table == Self.table && changes[0].columns == Self.columns.map { $0.0 })
        let expected: [Value] = [
            .int(1), .int(-128), .uint(18_446_744_073_709_551_615), .int(-8_388_608), .bool(true),
            .text("-123456789012345678901234567890.1234567891"), .text("-0.05"), .double(1.5), .double(-2.5e-300),
            .text("ab"), .text(String(repeating: "é", count: 300)), .text("tab\tand 'quote' 🦤"), .bytes([1, 0, 0, 0]), .bytes([0xff, 0]),
            .text("2024-01-02 03:04:05.123456"), .text("9999-12-31 23:59:59"), .text("-01:02:03.450"), .text("838:59:59.000001"),
            .text("2038-01-19 03:14:07.999999+00"), .text("1000-01-01"), .int(1901), .text("y"), .text("a,c"), .text("1000000001"),
            .text("00000000-0000-0000-0000-000000000000"), .text("{\"k\": [1]}"),
        ]
        for (index, want) in expected.enumerated() {
            let got = changes[0].values[index], name = Self.columns[index].0
            #expect(got == want, "column \(name)")
        }
        #expect(changes[1].values == [.int(2)] + Array(repeating: .null, count: 25))
        // The update carries both full images.
        #expect(changes[2].oldValues?[0] == .int(1) && changes[2].oldValues?[6] == .text("-0.05"))
        #expect(changes[2].values[0] == .int(3) && changes[2].values[6] == .text("1.23") && changes[2].values[1] == .int(-128))
        #expect(changes[3].oldValues?[0] == .int(2) && changes[3].values.isEmpty)
        #expect(changes[4].values[24] == .text("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11") && changes[4].values[1] == .null)
    }

    @Test("rows of tables outside the task are skipped; the positions still advance")
    func otherTablesSkipped() throws {
        var decoder = BinlogEventDecoder()
        var assembler = BinlogTransactionAssembler(after: BinlogPosition(file: "start", offset: 4), schemas: [])
        let transactions = try Self.events().compactMap { bytes in
            let (header, event) = try decoder.decode(bytes)
            return try assembler.add(header, event)
        }
        #expect(transactions.count == 5 && transactions.allSatisfy { $0.changes.isEmpty })
    }

    @Test("table maps and rows events name their table in their first bytes, so other tables are skipped undecoded")
    func rowsTableIDs() throws {
        var decoder = BinlogEventDecoder()
        var captured = BinlogTransactionAssembler(after: BinlogPosition(file: "start", offset: 4), schemas: [Self.schema])
        var other = BinlogTransactionAssembler(after: BinlogPosition(file: "start", offset: 4), schemas: [])
        var rowsEvents = 0
        for bytes in try Self.events() {
            let (header, event) = try decoder.decode(bytes)
            let peeked = bytes.withUnsafeBufferPointer(BinlogEventDecoder.rowsTableID)
            let named = bytes.withUnsafeBufferPointer(BinlogEventDecoder.tableMapName)
            if case let .tableMap(map) = event {
                #expect(named?.id == map.id && named?.table == Self.table)
            } else {
                #expect(named == nil)
            }
            if case let .rows(rows) = event {
                rowsEvents += 1
                #expect(peeked == rows.tableID)
                #expect(captured.captures(tableID: rows.tableID) && !other.captures(tableID: rows.tableID))
            } else {
                #expect(peeked == nil)
            }
            _ = try captured.add(header, event)
            _ = try other.add(header, event)
        }
        #expect(rowsEvents == 4)
    }

    @Test("a column the task did not know is added, typed from the table map's optional metadata")
    func unknownColumnIsAdded() throws {
        var schema = Self.schema
        schema.columns.removeAll { ["i_ubig", "vb", "e", "j"].contains($0.name) }
        var decoder = BinlogEventDecoder()
        var assembler = BinlogTransactionAssembler(after: BinlogPosition(file: "start", offset: 4), schemas: [schema])
        let transactions = try Self.events().compactMap { bytes in
            let (header, event) = try decoder.decode(bytes)
            return try assembler.add(header, event)
        }
        let added = transactions.flatMap(\.schemaChanges).compactMap { change -> Column? in
            if case let .addColumn(column) = change.kind { column } else { nil }
        }
        #expect(added.map(\.name) == ["i_ubig", "vb", "e", "j"], "added once, at the first table map that shows them")
        #expect(added.map(\.type) == [.integer(bytes: 8, unsigned: true), .varbinary(length: 10), .enumeration(values: ["x", "y"]), .text])
        #expect(transactions[1].changes[0].values[2] == .uint(18_446_744_073_709_551_615), "the new column's values decode with its type")
    }

    @Test("without column names in the table map, a column count that changed is refused naming the table")
    func changedShapeIsRefused() throws {
        var decoder = BinlogEventDecoder()
        var schema = Self.schema
        schema.columns.removeLast()
        var found: FerryError?
        for bytes in try Self.events() {
            guard case var (header, .tableMap(map)) = try decoder.decode(bytes) else { continue }
            map.names = nil
            var assembler = BinlogTransactionAssembler(after: BinlogPosition(file: "start", offset: 4), schemas: [schema])
            _ = try assembler.add(header, .tableMap(map))
            header.type = BinlogEventType.writeRowsV1
            let rows = BinlogRows(kind: .write, tableID: map.id, columnCount: map.types.count, present: [], presentAfter: nil, body: [0])
            do { _ = try assembler.add(header, .rows(rows)) } catch let error as FerryError { found = error }
            break
        }
        #expect(found?.message.contains("ferry_golden.golden has 26 columns in the binlog but 25") == true)
    }

    @Test("every truncated event throws or decodes, never reads past its end")
    func truncatedEvents() throws {
        for bytes in try Self.events() {
            for length in 0..<bytes.count {
                var decoder = BinlogEventDecoder()
                var assembler = BinlogTransactionAssembler(after: BinlogPosition(file: "f", offset: 4), schemas: [Self.schema])
                if let (header, event) = try? decoder.decode(Array(bytes.prefix(length))) {
                    _ = try? assembler.add(header, event)
                }
            }
        }
    }

    @Test("positions read and print as file:offset with the GTID of each domain")
    func positions() {
        let position = BinlogPosition("mysql-bin.000003:1234 gtid=0-1-11,2-5-7")
        #expect(position == BinlogPosition(file: "mysql-bin.000003", offset: 1234,
                                           gtids: [GTID(domain: 0, server: 1, sequence: 11), GTID(domain: 2, server: 5, sequence: 7)]))
        #expect(position?.description == "mysql-bin.000003:1234 gtid=0-1-11,2-5-7")
        #expect(BinlogPosition("mysql-bin-changelog.000024:373")?.offset == 373)
        #expect(BinlogPosition("0/16B3748") == nil && BinlogPosition("binlog:") == nil && BinlogPosition("f:1 gtid=0-1") == nil)
        let advanced = position?.advanced(to: 99, in: "next", gtid: GTID(domain: 2, server: 1, sequence: 8))
        #expect(advanced?.description == "next:99 gtid=0-1-11,2-1-8")
        #expect(MySQLCapture.serverID(task: "a") != MySQLCapture.serverID(task: "b") && MySQLCapture.serverID(task: "a") >= 1 << 30)
        #expect(position?.offsetAgrees(withServerState: "0-1-11,1-3-4,2-5-7") == true)
        #expect(position?.offsetAgrees(withServerState: "0-1-10,2-5-7") == false, "the server is elsewhere in domain 0")
        #expect(position?.offsetAgrees(withServerState: "0-1-11") == false, "the server has not seen domain 2 there")
        #expect(position?.offsetAgrees(withServerState: "") == false)
    }
}
