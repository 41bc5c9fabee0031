import ArgumentParser
import FerryAPI
import FerryCatalog
import FerryCore
import FerryTelemetry
import Foundation
import Hummingbird
import Logging

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the control plane: the AWS DMS API (JSON 1.1, SigV4) over an embedded catalog, or a PostgreSQL one a cluster shares (--catalog).",
        discussion: """
        Point the AWS CLI at it: aws dms describe-endpoints --endpoint-url http://127.0.0.1:9600
        Credentials: FERRY_ACCESS_KEY_ID and FERRY_SECRET_ACCESS_KEY define an admin key pair; without them the
        first start generates one and prints it once. `ferry credentials` manages more.
        """
    )

    @Option(help: "Address and port to listen on. An address other machines reach needs --tls-cert and --tls-key, or --insecure-listen.")
    var listen: String = "127.0.0.1:9600"

    @Option(name: .customLong("tls-cert"), help: "Serve HTTPS with this PEM certificate chain (with --tls-key).")
    var tlsCert: String?

    @Option(name: .customLong("tls-key"), help: "The PEM private key of --tls-cert.")
    var tlsKey: String?

    @Flag(name: .customLong("insecure-listen"), help: "Serve plain HTTP on a non-loopback --listen address (something in front of Ferry encrypts).")
    var insecureListen = false

    @Option(name: .customLong("data-dir"), help: "Folder for the embedded catalog, the secret key, task logs and reports (created if missing).")
    var dataDir: String = "ferry-data"

    @Option(help: "A PostgreSQL database to keep the catalog in, shared by every node of a cluster (postgres://user:password@host:port/database; docs/cluster.md). Every node needs the same secret.key in its --data-dir.")
    var catalog: String?

    @Option(name: .customLong("node-id"), help: "This node's name in the cluster (default: host name and port).")
    var nodeID: String?

    @Option(name: .customLong("account-id"), help: "The 12-digit account id that appears in ARNs.")
    var accountID: String = "000000000000"

    @Flag(help: "Log every request.")
    var verbose = false

    @Option(help: "A webhook event subscriptions may deliver to, as NAME=URL (repeatable); a subscription names it with SnsTopicArn arn:aws:sns:<region>:<account>:NAME (docs/events.md).")
    var webhook: [String] = []

    @Option(help: "Change one of DMS's default quotas, which the create operations enforce, as NAME=MAX (repeatable; DescribeAccountAttributes lists them), e.g. ReplicationTasks=2000.")
    var quota: [String] = []

    @Option(name: .customLong("alarm-lag-seconds"), help: "Raise an alarm event when a task's lag stays above this many seconds (default \(Int(AlarmSettings().latencySeconds)))…")
    var alarmLagSeconds: Double?

    @Option(name: .customLong("alarm-lag-minutes"), help: "…for this many minutes (default \(Int(AlarmSettings().latencyMinutes))).")
    var alarmLagMinutes: Double?

    @Option(name: .customLong("alarm-retained-gb"), help: "Raise an alarm event when a source keeps more than this many GB of WAL or binlog for a task (default \(AlarmSettings().retainedBytes >> 30)).")
    var alarmRetainedGB: Double?

    func run() async throws {
        let address: ListenAddress
        let tls: ServerTLS?
        do {
            address = try ListenAddress.parse(listen, field: "--listen")
            tls = try serverTLS()
            try address.checkExposure(tls: tls != nil, insecureListen: insecureListen)
        } catch let error as FerryError {
            Terminal.error(error.message)
            throw ExitCode(2)
        }
        let (host, port) = (address.host, address.port)
        let url = "\(tls == nil ? "http" : "https")://\(host):\(port)"
        guard accountID.count == 12, accountID.allSatisfy(\.isNumber) else {
            Terminal.error("--account-id: expected 12 digits, got '\(accountID)'")
            throw ExitCode(2)
        }
        let catalog: Catalog
        do { catalog = try Catalog.open(directory: URL(fileURLWithPath: dataDir), url: self.catalog) } catch {
            Terminal.error("\(self.catalog == nil ? "--data-dir" : "--catalog"): \(error)")
            throw ExitCode(1)
        }
        try ensureCredentials(catalog)
        let logger = CLILogging.logger(verbose: verbose, label: "ferry.api")
        let webhooks: [Webhook]
        var quotas = AccountQuotas()
        do {
            webhooks = try webhook.map(Self.parseWebhook)
            for text in quota { try quotas.set(text, field: "--quota") }
        } catch let error as FerryError {
            Terminal.error(error.message)
            throw ExitCode(2)
        }
        var alarms = AlarmSettings()
        for (value, field) in [(alarmLagSeconds, "--alarm-lag-seconds"), (alarmLagMinutes, "--alarm-lag-minutes"), (alarmRetainedGB, "--alarm-retained-gb")]
        where value.map({ $0 < 0 }) ?? false {
            Terminal.error("\(field): must be 0 or more")
            throw ExitCode(2)
        }
        alarms.latencySeconds = alarmLagSeconds ?? alarms.latencySeconds
        alarms.latencyMinutes = alarmLagMinutes ?? alarms.latencyMinutes
        if let gigabytes = alarmRetainedGB { alarms.retainedBytes = Int64(gigabytes * Double(1 << 30)) }
        let node = nodeID ?? "\(ProcessInfo.processInfo.hostName)-\(port)"
        let service = DMSService(catalog: catalog, accountID: accountID, webhooks: webhooks, alarms: alarms, quotas: quotas, nodeID: node,
                                 address: url, logger: logger)
        for (webhook, secret, created) in try service.webhookSecrets() where created {
            Terminal.line("Webhook \(webhook.name) (\(webhook.url)) signs its deliveries with \(secret) (shown only now; Standard Webhooks' webhook-signature)")
        }
        try await service.recover()
        let app = try buildApplication(service: service, catalog: catalog, settings: ServerSettings(host: host, port: port, tls: tls), logger: logger)
        Terminal.line("Ferry listening on \(url) (node \(node), catalog \(catalog.store.location)); use --endpoint-url \(url)")
        try await app.runService()
    }

    /// The HTTPS certificate, when both `--tls-cert` and `--tls-key` are given.
    private func serverTLS() throws -> ServerTLS? {
        switch (tlsCert, tlsKey) {
        case (nil, nil): return nil
        case let (certificate?, key?): return try ServerTLS(certificateFile: certificate, keyFile: key)
        case (nil, _?): throw FerryError.invalidParameter("--tls-key", "needs --tls-cert, the certificate chain the key belongs to")
        case (_?, nil): throw FerryError.invalidParameter("--tls-cert", "needs --tls-key, the certificate's private key")
        }
    }

    /// `NAME=URL`, the URL http or https.
    static func parseWebhook(_ text: String) throws -> Webhook {
        guard let equals = text.firstIndex(of: "="), let url = URL(string: String(text[text.index(after: equals)...])),
              ["http", "https"].contains(url.scheme ?? ""), url.host != nil else {
            throw FerryError.invalidParameter("--webhook", "expected NAME=http(s)://host/path, got '\(text)'")
        }
        let name = String(text[..<equals])
        guard !name.isEmpty, name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }) else {
            throw FerryError.invalidParameter("--webhook", "the NAME must be letters, digits, - and _; got '\(name)'")
        }
        return Webhook(name: name, url: url)
    }

    /// Stores the admin key pair from the environment, or makes one on first start and prints it once.
    private func ensureCredentials(_ catalog: Catalog) throws {
        let environment = ProcessInfo.processInfo.environment
        if let id = environment["FERRY_ACCESS_KEY_ID"], let secret = environment["FERRY_SECRET_ACCESS_KEY"], !id.isEmpty, !secret.isEmpty {
            try catalog.addCredential(accessKeyID: id, secretAccessKey: secret)
            return
        }
        guard try catalog.credentialIDs().isEmpty else { return }
        let pair = Catalog.generateKeyPair()
        try catalog.addCredential(accessKeyID: pair.accessKeyID, secretAccessKey: pair.secretAccessKey)
        Terminal.line("""
            Created an admin key pair (shown only now; `ferry credentials create` makes more):
              export AWS_ACCESS_KEY_ID=\(pair.accessKeyID)
              export AWS_SECRET_ACCESS_KEY=\(pair.secretAccessKey)
            """)
    }
}

struct Credentials: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Manage the access key pairs `ferry serve` accepts.",
        subcommands: [Create.self, List.self, Delete.self]
    )

    struct Options: ParsableArguments {
        @Option(name: .customLong("data-dir"), help: "The server's data folder.")
        var dataDir: String = "ferry-data"

        @Option(help: "The cluster's PostgreSQL catalog, when the server uses one.")
        var catalog: String?

        func open() throws -> Catalog { try Catalog.open(directory: URL(fileURLWithPath: dataDir), url: catalog) }
    }

    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a key pair and print it once.")
        @OptionGroup var options: Options

        func run() throws {
            let pair = Catalog.generateKeyPair()
            try options.open().addCredential(accessKeyID: pair.accessKeyID, secretAccessKey: pair.secretAccessKey)
            Terminal.line("AWS_ACCESS_KEY_ID=\(pair.accessKeyID)\nAWS_SECRET_ACCESS_KEY=\(pair.secretAccessKey)")
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List access key ids (secrets are never shown again).")
        @OptionGroup var options: Options

        func run() throws {
            let formatter = ISO8601DateFormatter()
            for credential in try options.open().credentialIDs() {
                Terminal.line("\(credential.id)  created \(formatter.string(from: credential.created))")
            }
        }
    }

    struct Delete: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete a key pair.")
        @OptionGroup var options: Options
        @Argument(help: "The access key id.") var accessKeyID: String

        func run() throws {
            guard try options.open().deleteCredential(accessKeyID) else {
                Terminal.error("no access key \(accessKeyID)")
                throw ExitCode(1)
            }
            Terminal.line("deleted \(accessKeyID)")
        }
    }
}
