/// The messages of `COPY … TO STDOUT (FORMAT binary)` for rows of one column, as libpq hands them over
/// one by one: the file header comes in front of the first, and a field count of -1 ends the data. Pure.
enum BinaryCopyRow {
    /// `PGCOPY\n\377\r\n\0`, the binary COPY format's signature.
    static let signature: [UInt8] = Array("PGCOPY\n".utf8) + [0xFF, 0x0D, 0x0A, 0x00]

    /// The one field of the row in `message`, or nil for the end of the data. `first` says whether the
    /// message is the COPY's first, which carries the header.
    static func field(of message: UnsafeRawBufferPointer, first: Bool) throws -> [UInt8]? {
        var offset = 0
        func integer(_ size: Int) throws -> UInt32 {
            guard message.count - offset >= size else { throw PGOutputError.malformed("a binary COPY message that ends early") }
            defer { offset += size }
            return message[offset..<offset + size].reduce(0) { $0 << 8 | UInt32($1) }
        }
        if first {
            guard message.count >= signature.count, message.prefix(signature.count).elementsEqual(signature) else {
                throw PGOutputError.malformed("a binary COPY that does not start with its signature")
            }
            offset = signature.count
            _ = try integer(4)
            let extensionLength = Int(try integer(4))
            guard message.count - offset >= extensionLength else { throw PGOutputError.malformed("a binary COPY message that ends early") }
            offset += extensionLength
        }
        switch Int16(bitPattern: UInt16(try integer(2))) {
        case -1:
            return nil
        case 1:
            let length = Int32(bitPattern: try integer(4))
            guard length >= 0 else { throw PGOutputError.malformed("a binary COPY row whose one field is NULL") }
            guard message.count - offset >= Int(length) else { throw PGOutputError.malformed("a binary COPY message that ends early") }
            return Array(message[offset..<offset + Int(length)])
        case let count:
            throw PGOutputError.malformed("a binary COPY row of \(count) fields where one was asked for")
        }
    }
}
