import Foundation

/// Where a CDC task starts when told (DMS `CdcStartPosition` / `CdcStartTime`).
public enum CdcStart: Equatable, Sendable {
    /// A position in the source's own notation: a PostgreSQL LSN (`0/16B3748`) or a binlog position
    /// (`mysql-bin.000003:1234`).
    case position(String)
    /// Changes committed at or after this moment.
    case time(Date)

    /// Reads the forms DMS accepts: a native position, a date (`2018-03-08T12:12:12`, UTC), or a DMS
    /// checkpoint (`checkpoint:V1#1#000004AF/B00000D0#0#0#*#0#0`, or a MySQL one whose third field starts with
    /// `file:pos`). Ferry's RecoveryCheckpoint is the native position itself. Nil when it is none of these.
    public static func parse(_ text: String) -> CdcStart? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if trimmed.hasPrefix("checkpoint:") {
            let fields = trimmed.dropFirst("checkpoint:".count).split(separator: "#", omittingEmptySubsequences: false)
            guard fields.count >= 3, fields[0] == "V1" else { return nil }
            let location = fields[2]
            if location.contains("/") { return .position(String(location)) }
            let parts = location.split(separator: ":")
            guard parts.count >= 2, UInt64(parts[1]) != nil else { return nil }
            return .position("\(parts[0]):\(parts[1])")
        }
        if let date = CdcTime.parse(trimmed) { return .time(date) }
        if trimmed.isEmpty { return nil }
        return .position(trimmed)
    }
}

/// Where a CDC task stops (DMS `CdcStopPosition`).
public enum CdcStop: Equatable, Sendable {
    /// When this server's clock passes the moment, once the changes read by then are applied.
    case serverTime(Date)
    /// At the first source transaction committed after the moment, which is not applied.
    case commitTime(Date)

    /// Reads `server_time:2018-02-09T12:12:12` or `commit_time:2018-02-09T12:12:12` (UTC).
    public static func parse(_ text: String) -> CdcStop? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        for (prefix, make) in [("server_time:", CdcStop.serverTime), ("commit_time:", CdcStop.commitTime)] where trimmed.hasPrefix(prefix) {
            return CdcTime.parse(String(trimmed.dropFirst(prefix.count))).map(make)
        }
        return nil
    }

    /// DMS's stop reason for it.
    public var stopReason: String {
        switch self {
        case .serverTime: return "Stop Reason STOPPED_AT_SERVER_TIME"
        case .commitTime: return "Stop Reason STOPPED_AT_COMMIT_TIME"
        }
    }
}

/// The timestamps of CDC bounds: ISO 8601 without a zone (UTC), with or without seconds' fraction or a `Z`.
enum CdcTime {
    static func parse(_ text: String) -> Date? {
        var text = text
        if text.hasSuffix("Z") { text.removeLast() }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        for format in ["yyyy-MM-dd'T'HH:mm:ss", "yyyy-MM-dd'T'HH:mm:ss.SSSSSS", "yyyy-MM-dd'T'HH:mm:ss.SSS", "yyyy-MM-dd'T'HH:mm", "yyyy-MM-dd"] {
            formatter.dateFormat = format
            if let date = formatter.date(from: text) { return date }
        }
        return nil
    }
}
