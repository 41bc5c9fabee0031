import FerryCore

/// Decodes the row images of a rows event against its table map and the table's column types.
enum BinlogRowImages {
    /// One row's images: `before` for updates and deletes, `after` for writes and updates. Columns the
    /// image does not hold are nil.
    struct Row: Equatable {
        var before: [Value?]?
        var after: [Value?]?
    }

    static func decode(_ rows: BinlogRows, map: BinlogTableMap, columns: [ColumnType]) throws -> [Row] {
        guard rows.columnCount == map.types.count, columns.count == map.types.count else {
            throw FerryError(.schemaMismatch, "\(map.table) has \(map.types.count) columns in the binlog but \(columns.count) were known when the task started (a column was added or dropped); reload the table")
        }
        var cursor = BinlogCursor(rows.body)
        var result: [Row] = []
        while cursor.remaining > 0 {
            let first = try image(&cursor, present: rows.present, map: map, columns: columns)
            switch rows.kind {
            case .write: result.append(Row(before: nil, after: first))
            case .delete: result.append(Row(before: first, after: nil))
            case .update:
                let after = try image(&cursor, present: rows.presentAfter ?? rows.present, map: map, columns: columns)
                result.append(Row(before: first, after: after))
            }
        }
        return result
    }

    private static func image(_ cursor: inout BinlogCursor, present: [Bool], map: BinlogTableMap, columns: [ColumnType]) throws -> [Value?] {
        let nulls = try BinlogEventDecoder.bitmap(&cursor, present.filter { $0 }.count)
        var values: [Value?] = []
        var index = 0
        for column in 0..<present.count {
            guard present[column] else { values.append(nil); continue }
            defer { index += 1 }
            if nulls[index] { values.append(.null); continue }
            values.append(try BinlogValueDecoder.decode(&cursor, type: map.types[column], metadata: map.metadata[column], as: columns[column]))
        }
        return values
    }
}
