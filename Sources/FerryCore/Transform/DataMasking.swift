import Crypto

/// A data-masking rule's action on one column (DMS 3.5.4's data-masking-… rule actions). Masks work on
/// the value's text form, so a masked column is written as text unless it already is.
public enum DataMasking: Hashable, Sendable {
    /// Every digit becomes this printable character (`data-masking-digits-mask`, `value`).
    case digitsMask(Character)
    /// Every digit becomes a random digit (`data-masking-digits-randomize`).
    case digitsRandomize
    /// The value becomes the lower-case hex SHA-256 of its text, 64 characters (`data-masking-hash-mask`).
    case hashMask

    /// The masked value; NULL stays NULL.
    public func mask(_ value: Value) -> Value {
        guard let text = value.textForm else { return .null }
        switch self {
        case let .digitsMask(character):
            return .text(String(text.map { $0.isASCII && $0.isNumber ? character : $0 }))
        case .digitsRandomize:
            return .text(String(text.map { $0.isASCII && $0.isNumber ? Character(String(Int.random(in: 0...9))) : $0 }))
        case .hashMask:
            return .text(SHA256.hash(data: Array(text.utf8)).map { hexDigits[Int($0 >> 4)] + hexDigits[Int($0 & 15)] }.joined())
        }
    }

    /// The type a masked column is written as: text columns keep theirs (widened to hold a hash), others become text.
    public func writtenType(for type: ColumnType) -> ColumnType {
        switch type {
        case .text: return type
        case let .char(length), let .varchar(length):
            guard self == .hashMask else { return type }
            return .varchar(length: length.map { max($0, 64) })
        default:
            return self == .hashMask ? .varchar(length: 64) : .text
        }
    }

    private var hexDigits: [String] { ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "a", "b", "c", "d", "e", "f"] }
}
