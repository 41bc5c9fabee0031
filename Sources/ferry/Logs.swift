import ArgumentParser
import FerryCore
import Foundation

/// `ferry logs --endpoint-url URL --task ID [--follow]`: a task's log lines from a server.
struct Logs: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print a task's log from a Ferry server (`ferry serve`), and with --follow keep printing new lines.",
        discussion: "Credentials come from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (a key of the server). Lines are JSON with --json."
    )

    @Option(name: .customLong("endpoint-url"), help: "The Ferry server, e.g. http://localhost:9600.")
    var endpointURL: String

    @Option(help: "The replication task's identifier or ARN.")
    var task: String

    @Flag(help: "Keep printing new lines until interrupted.")
    var follow = false

    @Option(help: "Only lines at this level or above: trace, debug, info (default), notice, warning, error, critical.")
    var level: String = "info"

    @Option(help: "Only lines whose message or table holds this text.")
    var filter: String?

    @Flag(help: "Print each line as the JSON the server returns.")
    var json = false

    func run() async throws {
        let client: DMSClient, arn: String
        do {
            client = try DMSClient(endpointURL: endpointURL)
            arn = try await client.taskArn(task)
        } catch let error as FerryError {
            Terminal.error(error.message)
            throw ExitCode(2)
        }
        var after = 0
        repeat {
            var input: [String: Any] = ["ReplicationTaskArn": arn, "AfterSequence": after, "MinimumLevel": level]
            if let filter { input["Filter"] = filter }
            let answer: [String: Any]
            do { answer = try await client.call("GetReplicationTaskLogEvents", input) } catch let error as FerryError {
                Terminal.error(error.message)
                throw ExitCode(error.kind == .invalidParameter ? 2 : 1)
            }
            for event in answer["Events"] as? [[String: Any]] ?? [] {
                Terminal.line(json ? String(decoding: try JSONSerialization.data(withJSONObject: event, options: [.sortedKeys]), as: UTF8.self) : Self.text(event))
            }
            after = answer["LastSequence"] as? Int ?? after
            if follow { try await Task.sleep(for: .seconds(1)) }
        } while follow
    }

    /// `2026-12-01T10:00:00Z warning ferry.cdc [app.orders] message`.
    static func text(_ event: [String: Any]) -> String {
        let time = (event["Time"] as? Double).map { ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: $0)) } ?? "-"
        let table = (event["Table"] as? String).map { " [\($0)]" } ?? ""
        return "\(time) \(event["Level"] as? String ?? "-") \(event["Component"] as? String ?? "-")\(table) \(event["Message"] as? String ?? "")"
    }
}
