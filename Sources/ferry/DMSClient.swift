import FerryAPI
import FerryCore
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Calls a Ferry server's operations over the DMS JSON 1.1 protocol, signed with the credentials of the
/// usual AWS environment variables (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION or AWS_DEFAULT_REGION).
struct DMSClient {
    let endpoint: URL
    let signer: SigV4Signer

    init(endpointURL: String) throws {
        guard let url = URL(string: endpointURL), let scheme = url.scheme, ["http", "https"].contains(scheme), url.host != nil else {
            throw FerryError.invalidParameter("--endpoint-url", "expected http://host:port or https://host:port, got '\(endpointURL)'")
        }
        let environment = ProcessInfo.processInfo.environment
        guard let key = environment["AWS_ACCESS_KEY_ID"], let secret = environment["AWS_SECRET_ACCESS_KEY"] else {
            throw FerryError.invalidParameter("AWS_ACCESS_KEY_ID", "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY to a key of the server (ferry credentials)")
        }
        endpoint = url
        signer = SigV4Signer(accessKeyID: key, secretAccessKey: secret,
                             region: environment["AWS_REGION"] ?? environment["AWS_DEFAULT_REGION"] ?? "us-east-1")
    }

    /// Calls `operation` with a JSON object and returns the answer's JSON object; a DMS error is thrown
    /// as a FerryError with its type and message.
    func call(_ operation: String, _ input: [String: Any]) async throws -> [String: Any] {
        let body = try JSONSerialization.data(withJSONObject: input)
        var request = URLRequest(url: endpoint.appendingPathComponent(""))
        request.httpMethod = "POST"
        request.httpBody = body
        let host = endpoint.port.map { "\(endpoint.host!):\($0)" } ?? endpoint.host!
        let headers = signer.headers(host: host, path: endpoint.path.isEmpty ? "/" : endpoint.path,
                                     headers: [("Content-Type", "application/x-amz-json-1.1"), ("X-Amz-Target", "AmazonDMSv20160101.\(operation)")],
                                     body: Array(body), now: Date())
        for (name, value) in headers where name != "host" { request.setValue(value, forHTTPHeaderField: name) }
        let data: Data, response: URLResponse
        do {
            (data, response) = try await URLSession.shared.data(for: request)
        } catch {
            throw FerryError(.connectionFailed, "\(endpoint): \(error.localizedDescription)")
        }
        let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:]
        guard let http = response as? HTTPURLResponse, http.statusCode == 200 else {
            let type = (object["__type"] as? String) ?? "error"
            throw FerryError(type == "InvalidParameterValueException" ? .invalidParameter : .database,
                             "\(operation): \(type): \(object["message"] as? String ?? String(decoding: data, as: UTF8.self))")
        }
        return object
    }

    /// The ARN of the task with this identifier (or the ARN itself).
    func taskArn(_ identifier: String) async throws -> String {
        if identifier.hasPrefix("arn:") { return identifier }
        let answer = try await call("DescribeReplicationTasks", ["Filters": [["Name": "replication-task-id", "Values": [identifier]]]])
        guard let arn = (answer["ReplicationTasks"] as? [[String: Any]])?.first?["ReplicationTaskArn"] as? String else {
            throw FerryError(.notFound, "no replication task named \(identifier)")
        }
        return arn
    }

    /// The task's most recent cutover.
    func cutover(of taskArn: String) async throws -> CutoverDescription? {
        let answer = try await call("DescribeCutovers", ["ReplicationTaskArn": taskArn])
        guard let first = (answer["Cutovers"] as? [[String: Any]])?.first else { return nil }
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .secondsSince1970
        return try decoder.decode(CutoverDescription.self, from: JSONSerialization.data(withJSONObject: first))
    }
}
