/// DMS's limited LOB mode: text and binary LOB values above `bytes` are cut to that size. Ferry never cuts
/// one without a trace: every cut value is counted per column and reported, and with `failsTable` a
/// value over the limit fails its table instead (DMS `DataTruncationErrorPolicy` SUSPEND_TABLE or STOP_TASK).
public struct LobLimit: Hashable, Sendable {
    public var bytes: Int
    public var failsTable: Bool

    public init(bytes: Int, failsTable: Bool = false) {
        self.bytes = bytes
        self.failsTable = failsTable
    }

    /// The column types the limit applies to. JSON is left whole: a cut document would no longer be JSON.
    public static func applies(to type: ColumnType) -> Bool {
        switch type {
        case .text, .blob: return true
        default: return false
        }
    }

    /// Whether DMS counts a column of this type as a LOB (CLOB, NCLOB or BLOB): text, JSON and binary LOBs.
    public static func isLob(_ type: ColumnType) -> Bool {
        switch type {
        case .text, .blob, .json: return true
        default: return false
        }
    }

    /// The value cut to the limit (text at a character boundary), or nil when it fits.
    public func cut(_ value: Value) -> Value? {
        switch value {
        case let .text(text) where text.utf8.count > bytes:
            let utf8 = Array(text.utf8)
            var end = bytes
            while end > 0, utf8[end] & 0xC0 == 0x80 { end -= 1 }
            return .text(String(decoding: utf8[..<end], as: UTF8.self))
        case let .bytes(data) where data.count > bytes:
            return .bytes(Array(data[..<bytes]))
        default:
            return nil
        }
    }

    /// A limit of `kilobytes` KB, as DMS's `LobMaxSize` and `bulk-max-size` give it.
    public static func kilobytes(_ kilobytes: Int, failsTable: Bool = false) -> LobLimit {
        LobLimit(bytes: kilobytes * 1024, failsTable: failsTable)
    }
}
