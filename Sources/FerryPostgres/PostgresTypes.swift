import FerryCore

/// PostgreSQL's native types and the neutral ``ColumnType``s, in both directions.
enum PostgresTypes {
    /// What the catalog says about one column's type.
    struct CatalogType {
        var formatted: String        // format_type(atttypid, atttypmod)
        var typeName: String         // pg_type.typname
        var typeType: String         // pg_type.typtype: b, e, d, c, …
        var typeModifier: Int        // atttypmod
        var elementName: String?     // for arrays, the element's typname
        var elementType: String?     // for arrays, the element's typtype
        var enumLabels: [String]
    }

    /// The neutral type of a source column.
    static func neutral(_ t: CatalogType) -> ColumnType {
        if let element = t.elementName {
            let elementType = CatalogType(formatted: String(t.formatted.dropLast(2)), typeName: element,
                                          typeType: t.elementType ?? "b", typeModifier: t.typeModifier,
                                          elementName: nil, elementType: nil, enumLabels: t.enumLabels)
            return .array(element: neutral(elementType))
        }
        if t.typeType == "e" { return .enumeration(values: t.enumLabels) }
        let mod = t.typeModifier
        switch t.typeName {
        case "bool": return .boolean
        case "int2": return .integer(bytes: 2, unsigned: false)
        case "int4": return .integer(bytes: 4, unsigned: false)
        case "int8": return .integer(bytes: 8, unsigned: false)
        case "numeric":
            guard mod >= 4 else { return .decimal(precision: nil, scale: nil) }
            return .decimal(precision: ((mod - 4) >> 16) & 0xffff, scale: (mod - 4) & 0xffff)
        case "float4": return .float32
        case "float8": return .float64
        case "bpchar": return .char(length: mod >= 4 ? mod - 4 : nil)
        case "varchar": return .varchar(length: mod >= 4 ? mod - 4 : nil)
        case "text", "name", "citext": return .text
        case "bytea": return .blob
        case "date": return .date
        case "time": return .time(precision: mod >= 0 ? mod : nil)
        case "timestamp": return .timestamp(precision: mod >= 0 ? mod : nil)
        case "timestamptz": return .timestampTZ(precision: mod >= 0 ? mod : nil)
        case "json", "jsonb": return .json
        case "uuid": return .uuid
        case "interval": return .interval
        case "bit": return .bit(length: max(mod, 1), varying: false)
        case "varbit": return .bit(length: max(mod, 0), varying: true)
        default: return .other(name: t.formatted)
        }
    }

    /// The PostgreSQL type for a column coming from another engine (or a neutral plan).
    /// `enumTypeName` is the quoted name of the enum type created for this column, if any.
    static func ddl(for type: ColumnType, enumTypeName: String?) -> String {
        switch type {
        case .boolean: return "boolean"
        case let .integer(bytes, unsigned):
            switch (bytes, unsigned) {
            case (1, _), (2, false): return "smallint"
            case (2, true), (3, _), (4, false): return "integer"
            case (4, true), (8, false): return "bigint"
            default: return "numeric(20,0)"
            }
        case let .decimal(p, s):
            guard let p else { return "numeric" }
            return "numeric(\(min(p, 1000)),\(s ?? 0))"
        case .float32: return "real"
        case .float64: return "double precision"
        case let .char(n): return n.map { "character(\($0))" } ?? "character"
        case let .varchar(n): return n.map { "character varying(\($0))" } ?? "character varying"
        case .text, .set, .other: return "text"
        case .binary, .varbinary, .blob: return "bytea"
        case .date: return "date"
        case let .time(p): return "time\(precisionSuffix(p)) without time zone"
        case let .timestamp(p): return "timestamp\(precisionSuffix(p)) without time zone"
        case let .timestampTZ(p): return "timestamp\(precisionSuffix(p)) with time zone"
        case .json: return "json"
        case .uuid: return "uuid"
        case .enumeration: return enumTypeName ?? "text"
        case let .array(element): return ddl(for: element, enumTypeName: enumTypeName) + "[]"
        case .interval: return "interval"
        case let .bit(n, varying): return varying ? "bit varying(\(n))" : "bit(\(n))"
        case .year: return "smallint"
        }
    }

    private static func precisionSuffix(_ p: Int?) -> String {
        p.map { "(\(min($0, 6)))" } ?? ""
    }

    /// The enum labels a column needs, if it is an enum or an array of one.
    static func enumLabels(of type: ColumnType) -> [String]? {
        switch type {
        case let .enumeration(values): return values
        case let .array(element): return enumLabels(of: element)
        default: return nil
        }
    }

    /// A literal default from `pg_get_expr`, when it is a plain constant.
    /// A default PostgreSQL computes: an identity column (`attidentity` 'a' always, 'd' by default), a
    /// serial's `nextval(…)`, or an expression that is not a literal.
    static func generatedDefault(_ expression: String?, identity: String) -> GeneratedDefault? {
        if identity == "a" || identity == "d" { return .counter(.init(always: identity == "a")) }
        guard let expression else { return nil }
        if expression.hasPrefix("nextval(") { return .counter(.init()) }
        return literalDefault(expression) == nil ? GeneratedDefault.recognise(expression) : nil
    }

    static func literalDefault(_ expression: String?) -> Value? {
        guard var text = expression?.trimmingCharacters(in: .whitespaces) else { return nil }
        if text == "true" { return .bool(true) }
        if text == "false" { return .bool(false) }
        if text.hasPrefix("("), text.hasSuffix(")") { text = String(text.dropFirst().dropLast()) }
        if Int64(text) != nil || (Double(text) != nil && text.allSatisfy({ "0123456789.-+e".contains($0) })) {
            return .text(text)
        }
        guard text.hasPrefix("'") else { return nil }
        // 'literal'::type or 'literal'
        var body = String.UnicodeScalarView()
        var scalars = Array(text.unicodeScalars.dropFirst())[...]
        while let c = scalars.popFirst() {
            if c == "'" {
                if scalars.first == "'" { scalars.removeFirst(); body.append("'"); continue }
                let rest = String(String.UnicodeScalarView(scalars))
                guard rest.isEmpty || rest.hasPrefix("::") else { return nil }
                return .text(String(body))
            }
            body.append(c)
        }
        return nil
    }
}

/// Converts between COPY text fields and ``Value``s.
enum PostgresValueCodec {
    /// The value of one COPY text field (already unescaped) for a column of `type`.
    static func decode(_ field: [UInt8]?, as type: ColumnType) -> Value {
        guard let field else { return .null }
        if isBinary(type) { return decodeBinary(field) }
        return decode(text: String(decoding: field, as: UTF8.self), as: type)
    }

    /// The value of a field in PostgreSQL's text form (a COPY field unescaped, or a pgoutput tuple's column)
    /// for a column of `type`. A text value keeps `text` itself rather than a copy.
    static func decode(text: String, as type: ColumnType) -> Value {
        switch type {
        case .boolean:
            return .bool(text.utf8.first == UInt8(ascii: "t"))
        case .integer:
            return Int64(text).map(Value.int) ?? .text(text)
        case .float32, .float64:
            return Double(text).map(Value.double) ?? .text(text)
        case .binary, .varbinary, .blob:
            return decodeBinary(text.utf8)
        case let .array(element):
            guard let elements = ArrayLiteral.parse(text) else { return .text(text) }
            return .array(elements.map { decode($0, as: element) })
        default:
            return .text(text)
        }
    }

    /// A bytea in its hex form (`\x…`); anything else as its bytes.
    private static func decodeBinary<Field: Collection<UInt8>>(_ field: Field) -> Value {
        if field.starts(with: [0x5c, UInt8(ascii: "x")]), let bytes = Hex.decode(field.dropFirst(2)) {
            return .bytes(bytes)
        }
        return .bytes(Array(field))
    }

    private static func decode(_ element: ArrayLiteral.Element, as type: ColumnType) -> Value {
        switch element {
        case .null: return .null
        case let .text(text): return decode(text: text, as: type)
        case let .array(nested): return .array(nested.map { decode($0, as: type) })
        }
    }

    /// Appends one value as an escaped COPY text field for a target column created from `type`.
    static func encode(_ value: Value, as type: ColumnType, column: @autoclosure () -> String, into out: inout [UInt8]) throws {
        switch value {
        case .null: out.append(contentsOf: CopyTextCodec.null)
        case let .int(v): out.append(contentsOf: String(v).utf8)
        case let .uint(v): out.append(contentsOf: String(v).utf8)
        case let .double(v): out.append(contentsOf: Value.canonicalDouble(v).utf8)
        case let .bool(v): out.append(v ? UInt8(ascii: "t") : UInt8(ascii: "f"))
        case let .text(text):
            try requireStorable(text, column: column())
            CopyTextCodec.appendEscaped(text.utf8, to: &out)
        case let .bytes(bytes):
            if case .array = type { throw FerryError(.dataError, "\(column()): binary value where an array was expected") }
            if isBinary(type) {
                out.append(contentsOf: [0x5c, 0x5c, UInt8(ascii: "x")])
                Hex.appendEncoded(bytes, to: &out)
            } else {
                guard String(validating: bytes, as: UTF8.self) != nil else {
                    throw FerryError(.dataError, "\(column()): binary value is not valid UTF-8 text for a \(type) column")
                }
                try encode(.text(String(decoding: bytes, as: UTF8.self)), as: type, column: column(), into: &out)
            }
        case let .array(values):
            let literal: String
            if case let .array(element) = type {
                literal = try ArrayLiteral.format(values) { try elementText($0, as: element, column: column()) }
            } else {
                literal = JSONText.array(values)
            }
            try encode(.text(literal), as: .text, column: column(), into: &out)
        }
    }

    /// Refuses text PostgreSQL cannot store: a NUL character.
    static func requireStorable(_ text: String, column: @autoclosure () -> String) throws {
        if text.utf8.withContiguousStorageIfAvailable({ $0.contains(0) }) ?? text.utf8.contains(0) {
            throw FerryError(.dataError, "\(column()): the value contains a NUL character (0x00), which PostgreSQL text cannot store")
        }
    }

    private static func elementText(_ value: Value, as type: ColumnType, column: @autoclosure () -> String) throws -> String {
        switch value {
        case let .bytes(bytes) where isBinary(type): return "\\x" + Hex.encode(bytes)
        case let .bool(b): return b ? "t" : "f"
        case let .text(text) where text.utf8.contains(0):
            throw FerryError(.dataError, "\(column()): an array element contains a NUL character (0x00), which PostgreSQL cannot store")
        default: return value.textForm ?? ""
        }
    }

    static func isBinary(_ type: ColumnType) -> Bool {
        switch type {
        case .binary, .varbinary, .blob: return true
        default: return false
        }
    }
}
