import FerryCore
import Foundation

/// Everything a cutover did, as it happens: what the journal keeps after every step and the report shows.
public struct CutoverRecord: Sendable, Codable, Equatable {
    /// Names the cutover in its markers and in the journal.
    public var id: String
    /// The forward replication task.
    public var task: String
    /// The task that replicates the other way after the cutover.
    public var reverseTask: String
    public var startedAt: Date
    public var machine: CutoverMachine
    /// The source tables whose writes are frozen.
    public var tables: [String]
    /// The round trip of a marker through the stream before the freeze, in seconds.
    public var lagSeconds: Double?
    /// How the writes were frozen.
    public var freezeMethod: String?
    /// From the first lock requested to the release, in seconds.
    public var writePauseSeconds: Double?
    /// How long each step took, in seconds, by step name.
    public var stepSeconds: [String: Double] = [:]
    /// The source position of the sync marker (every change before the freeze) and of the stop marker.
    public var syncPosition: String?
    public var stopPosition: String?
    /// The tables compared under the freeze.
    public var verifiedTables: Int = 0
    /// The next value each target counter was moved to at least, by target table.
    public var counters: [String: [String: Int64]] = [:]
    /// What did not go as planned without stopping the cutover (a cleanup that failed).
    public var warnings: [String] = []

    public init(id: String, task: String, reverseTask: String, startedAt: Date, machine: CutoverMachine, tables: [String]) {
        self.id = id
        self.task = task
        self.reverseTask = reverseTask
        self.startedAt = startedAt
        self.machine = machine
        self.tables = tables
    }

    /// `completed`, `aborted`, or the step in progress.
    public var status: String { machine.step?.rawValue ?? "starting" }
}

/// Where a cutover's record is kept after each step, so that a Ferry that stopped in the middle finds it.
public protocol CutoverJournal: Sendable {
    func save(_ record: CutoverRecord) throws
    /// The record last saved; nil when there is none.
    func load() throws -> CutoverRecord?
}

/// A journal in a JSON file, replaced atomically at each save (`ferry cutover` beside `ferry migrate`).
public struct FileCutoverJournal: CutoverJournal {
    public let path: String

    public init(path: String) {
        self.path = path
    }

    public func save(_ record: CutoverRecord) throws {
        do {
            try CutoverRecord.encoder.encode(record).write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw FerryError(.invalidParameter, "the cutover journal \(path) cannot be written: \(error.localizedDescription)")
        }
    }

    public func load() throws -> CutoverRecord? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        do {
            return try CutoverRecord.decoder.decode(CutoverRecord.self, from: data)
        } catch {
            throw FerryError(.invalidParameter, "the cutover journal \(path) is not one Ferry wrote: \(error)")
        }
    }
}

extension CutoverRecord {
    /// The record's JSON form: ISO 8601 times, sorted keys (the journal and `--json`).
    public static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        return encoder
    }()

    public static let decoder: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }()
}
