import FerryCore
import Foundation

/// The CDC bounds of a task request (CdcStartTime, CdcStartPosition, CdcStopPosition), checked.
struct CdcBoundsInput {
    /// The start to store on the task: the position as given, or the start time in DMS's date form.
    var start: String?
    var stop: String?

    init(startTime: Date?, startPosition: String?, stopPosition: String?, migrationType: String) throws {
        if startTime != nil, startPosition != nil {
            throw DMSError.invalidParameter("Specify either CdcStartTime or CdcStartPosition, not both.")
        }
        if let startPosition, CdcStart.parse(startPosition) == nil {
            throw DMSError.invalidParameter("CdcStartPosition: expected a PostgreSQL LSN (0/16B3748), a binlog position (mysql-bin.000003:1234), a checkpoint or a date (2024-01-02T03:04:05); got '\(startPosition)'.")
        }
        if let stopPosition, CdcStop.parse(stopPosition) == nil {
            throw DMSError.invalidParameter("CdcStopPosition: expected server_time:2024-01-02T03:04:05 or commit_time:2024-01-02T03:04:05 (UTC); got '\(stopPosition)'.")
        }
        if startTime != nil || startPosition != nil, migrationType != "cdc" {
            throw DMSError.invalidParameter("CdcStartTime and CdcStartPosition apply to MigrationType cdc; this task is \(migrationType) (a full load starts the stream where its snapshot ends).")
        }
        if stopPosition != nil, migrationType == "full-load" {
            throw DMSError.invalidParameter("CdcStopPosition applies to MigrationType cdc and full-load-and-cdc; this task is full-load.")
        }
        start = startPosition ?? startTime.map(Self.dateForm)
        stop = stopPosition
    }

    static func dateForm(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd'T'HH:mm:ss"
        return formatter.string(from: date)
    }
}
