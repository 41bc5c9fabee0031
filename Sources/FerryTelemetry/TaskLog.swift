import Foundation
import Logging

/// One line of a task's log.
public struct TaskLogEntry: Codable, Sendable, Equatable {
    /// Counts up from 1 over the task's whole log: where a reader left off.
    public var sequence: Int
    public var time: Date
    public var level: String
    /// Which part of Ferry wrote it (`ferry.full-load`, `ferry.cdc`, `ferry.tasks`, …).
    public var component: String
    public var message: String
    /// The table it is about, when it is about one (the `table` metadata).
    public var table: String?
}

/// A task's log: JSON lines in `<folder>/task.log`, moved to `task.log.1` (and older ones on, the oldest
/// dropped) when it passes ``maximumFileBytes``, so a task's log never takes more than
/// (``keptFiles`` + 1) × ``maximumFileBytes``.
public final class TaskLog: @unchecked Sendable {
    public static let maximumFileBytes = 8 << 20
    public static let keptFiles = 4

    public let folder: URL
    private let lock = NSLock()
    private var sequence: Int?
    private var handle: FileHandle?
    private var currentFileBytes = 0

    public init(folder: URL) {
        self.folder = folder
    }

    private var current: URL { folder.appendingPathComponent("task.log") }
    private func rotated(_ n: Int) -> URL { folder.appendingPathComponent("task.log.\(n)") }

    /// Every file of the log, oldest first.
    private var files: [URL] {
        (1...Self.keptFiles).reversed().map(rotated).filter { FileManager.default.fileExists(atPath: $0.path) }
            + (FileManager.default.fileExists(atPath: current.path) ? [current] : [])
    }

    public func append(level: Logger.Level, component: String, message: String, table: String?, time: Date = Date()) {
        lock.withLock {
            do {
                let next = try nextSequence()
                let encoder = JSONEncoder()
                encoder.dateEncodingStrategy = .iso8601
                encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
                var line = try encoder.encode(TaskLogEntry(sequence: next, time: time, level: level.rawValue, component: component,
                                                          message: message, table: table))
                line.append(UInt8(ascii: "\n"))
                if currentFileBytes + line.count > Self.maximumFileBytes, currentFileBytes > 0 { try rotate() }
                let handle = try openForAppend()
                try handle.write(contentsOf: line)
                currentFileBytes += line.count
                sequence = next
            } catch {
                // A log that cannot be written must not stop the task; the server's own log still has the line.
            }
        }
    }

    private func nextSequence() throws -> Int {
        if let sequence { return sequence + 1 }
        let last = files.last.flatMap { try? String(contentsOf: $0, encoding: .utf8) }?.split(separator: "\n").last
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return (last.flatMap { try? decoder.decode(TaskLogEntry.self, from: Data($0.utf8)) }?.sequence ?? 0) + 1
    }

    private func openForAppend() throws -> FileHandle {
        if let handle { return handle }
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        if !FileManager.default.fileExists(atPath: current.path) {
            _ = FileManager.default.createFile(atPath: current.path, contents: nil, attributes: [.posixPermissions: 0o600])
        }
        let handle = try FileHandle(forWritingTo: current)
        currentFileBytes = Int(try handle.seekToEnd())
        self.handle = handle
        return handle
    }

    private func rotate() throws {
        try handle?.close()
        handle = nil
        let manager = FileManager.default
        try? manager.removeItem(at: rotated(Self.keptFiles))
        for n in stride(from: Self.keptFiles - 1, through: 1, by: -1) where manager.fileExists(atPath: rotated(n).path) {
            try manager.moveItem(at: rotated(n), to: rotated(n + 1))
        }
        try manager.moveItem(at: current, to: rotated(1))
        currentFileBytes = 0
    }

    /// Entries after `sequence`, at `minimumLevel` or above, whose message or table holds `filter`, at most `limit`.
    public func entries(after sequence: Int = 0, minimumLevel: Logger.Level = .trace, filter: String? = nil, limit: Int = 1000) -> [TaskLogEntry] {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        // Only the files that can hold lines after `sequence`: from the newest back to the first that starts at or before it.
        var needed: [URL] = []
        for file in lock.withLock({ self.files }).reversed() {
            needed.insert(file, at: 0)
            if let first = Self.firstLine(of: file).flatMap({ try? decoder.decode(TaskLogEntry.self, from: $0) }), first.sequence <= sequence { break }
        }
        var found: [TaskLogEntry] = []
        for file in needed {
            guard let text = try? String(contentsOf: file, encoding: .utf8) else { continue }
            for line in text.split(separator: "\n") {
                guard let entry = try? decoder.decode(TaskLogEntry.self, from: Data(line.utf8)), entry.sequence > sequence,
                      (Logger.Level(rawValue: entry.level) ?? .info) >= minimumLevel,
                      filter.map({ entry.message.localizedCaseInsensitiveContains($0) || entry.table?.localizedCaseInsensitiveContains($0) == true }) ?? true
                else { continue }
                found.append(entry)
                if found.count == limit { return found }
            }
        }
        return found
    }

    /// The sequence number of the last line written; 0 for an empty log.
    public var lastSequence: Int {
        lock.withLock { ((try? nextSequence()) ?? 1) - 1 }
    }

    /// A file's first line, read without reading the rest.
    private static func firstLine(of file: URL) -> Data? {
        guard let handle = try? FileHandle(forReadingFrom: file) else { return nil }
        defer { try? handle.close() }
        var line = Data()
        while let chunk = try? handle.read(upToCount: 4096), !chunk.isEmpty {
            if let end = chunk.firstIndex(of: UInt8(ascii: "\n")) { return line + chunk[..<end] }
            line.append(chunk)
        }
        return line.isEmpty ? nil : line
    }

    /// The bytes the log takes on disk.
    public var diskBytes: Int {
        lock.withLock {
            files.reduce(0) { $0 + ((try? FileManager.default.attributesOfItem(atPath: $1.path)[.size] as? Int) ?? 0) }
        }
    }

    /// Removes the log (its task was deleted).
    public func remove() {
        lock.withLock {
            try? handle?.close()
            handle = nil
            sequence = nil
            try? FileManager.default.removeItem(at: folder)
        }
    }
}

/// A swift-log handler that writes into a task's log, beside the process's own handler.
public struct TaskLogHandler: LogHandler {
    public let log: TaskLog
    public let component: String
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .info

    public init(log: TaskLog, component: String) {
        self.log = log
        self.component = component
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        let table = event.metadata?["table"] ?? metadata["table"]
        log.append(level: event.level, component: component, message: event.message.description, table: table.map { "\($0)" })
    }
}
