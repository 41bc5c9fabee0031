/// The messages of `COPY … TO STDOUT (FORMAT binary)` for rows of one column, as libpq hands them over
/// one by one: the file header comes in front of the first, and a field count of -1 ends the data. Pure.
enum BinaryCopyRow {
    /// `PGCOPY\n\377\r\n\0`, the binary COPY format's signature.
    static let signature: [UInt8] = Array("PGCOPY\n".utf8) + [0xFF, 0x0D, 0x0A, 0x00]

    /// The one field of the row in `message`, or nil for the end of the data. `first` says whether the
    /// message is the COPY's first, which carries the header.
    static func field(of message: [UInt8], first: Bool) throws -> [UInt8]? {
        var reader = ByteReader(message)
        if first {
            guard try Array(reader.bytes(signature.count)) == signature else {
                throw PGOutputError.malformed("a binary COPY that does not start with its signature")
            }
            _ = try reader.uint32()
            _ = try reader.bytes(Int(try reader.uint32()))
        }
        switch Int16(bitPattern: try reader.uint16()) {
        case -1:
            return nil
        case 1:
            let length = Int32(bitPattern: try reader.uint32())
            guard length >= 0 else { throw PGOutputError.malformed("a binary COPY row whose one field is NULL") }
            return Array(try reader.bytes(Int(length)))
        case let count:
            throw PGOutputError.malformed("a binary COPY row of \(count) fields where one was asked for")
        }
    }
}
