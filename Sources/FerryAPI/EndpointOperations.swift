import FerryCatalog
import FerryConnectors
import FerryCore
import Foundation

extension DMSService {
    func endpoint(_ arn: String?) throws -> Endpoint {
        guard let arn, let endpoint = try catalog.get(.endpoint, arn: arn, as: Endpoint.self) else {
            throw DMSError.notFound("Endpoint \(arn ?? "") not found.")
        }
        return endpoint
    }

    /// Checks an endpoint's fields (``EndpointModel/validate(_:)``) and that the certificate it names exists.
    func validate(_ endpoint: Endpoint) throws {
        try EndpointModel.validate(endpoint)
        if let certificate = endpoint.CertificateArn { _ = try self.certificate(certificate) }
    }

    func createEndpoint(_ input: CreateEndpointMessage, _ context: RequestContext) throws -> CreateEndpointResponse {
        let identifier = input.EndpointIdentifier ?? ""
        try ResourceNames.validate(identifier, field: "EndpointIdentifier", maxLength: 255)
        let type = (input.EndpointType ?? "").uppercased()
        guard type == "SOURCE" || type == "TARGET" else {
            throw DMSError.invalidParameter("EndpointType must be source or target; got '\(input.EndpointType ?? "")'.")
        }
        let engine = try EndpointModel.engine(named: input.EngineName ?? "")
        let id = input.ResourceIdentifier ?? ResourceNames.randomID()
        let arn = ResourceNames.arn(region: context.region, account: context.account, type: "endpoint", id: id)
        var endpoint = Endpoint(
            EndpointIdentifier: identifier, EndpointType: type, EngineName: engine.name, EngineDisplayName: engine.display,
            Username: input.Username ?? input.PostgreSQLSettings?.Username ?? input.MySQLSettings?.Username,
            ServerName: input.ServerName ?? input.PostgreSQLSettings?.ServerName ?? input.MySQLSettings?.ServerName,
            Port: input.Port ?? input.PostgreSQLSettings?.Port ?? input.MySQLSettings?.Port,
            DatabaseName: input.DatabaseName ?? input.PostgreSQLSettings?.DatabaseName ?? input.MySQLSettings?.DatabaseName,
            ExtraConnectionAttributes: input.ExtraConnectionAttributes, Status: "active", KmsKeyId: input.KmsKeyId,
            EndpointArn: arn, CertificateArn: input.CertificateArn, SslMode: input.SslMode ?? "none",
            ServiceAccessRoleArn: input.ServiceAccessRoleArn, ExternalTableDefinition: input.ExternalTableDefinition,
            ExternalId: id, IsReadOnly: false,
            PostgreSQLSettings: withoutPassword(input.PostgreSQLSettings), MySQLSettings: withoutPassword(input.MySQLSettings))
        if engine.engine != .postgres { endpoint.PostgreSQLSettings = nil }
        if engine.engine != .mysql { endpoint.MySQLSettings = nil }
        try validate(endpoint)
        try checkQuota("Endpoints")
        try insert(.endpoint, arn: arn, identifier: identifier, endpoint)
        try catalog.setSecret(input.Password ?? input.PostgreSQLSettings?.Password ?? input.MySQLSettings?.Password, name: "password", for: arn)
        try storeTags(input.Tags, for: arn)
        return CreateEndpointResponse(Endpoint: endpoint)
    }

    func describeEndpoints(_ input: DescribeEndpointsMessage) throws -> DescribeEndpointsResponse {
        let filters = try FilterSet(input.Filters, allowed: ["endpoint-arn", "endpoint-type", "endpoint-id", "engine-name"])
        let (items, marker) = try describe(try catalog.list(.endpoint, as: Endpoint.self), filters: filters,
                                           page: try Page(marker: input.Marker, maxRecords: input.MaxRecords),
                                           noneFound: "No Endpoints found matching provided filters") { endpoint, name in
            switch name {
            case "endpoint-arn": return endpoint.EndpointArn
            case "endpoint-type": return endpoint.EndpointType
            case "endpoint-id": return endpoint.EndpointIdentifier
            default: return endpoint.EngineName
            }
        }
        return DescribeEndpointsResponse(Marker: marker, Endpoints: items)
    }

    func modifyEndpoint(_ input: ModifyEndpointMessage) throws -> ModifyEndpointResponse {
        var endpoint = try endpoint(input.EndpointArn)
        let arn = endpoint.EndpointArn!
        if let identifier = input.EndpointIdentifier {
            try ResourceNames.validate(identifier, field: "EndpointIdentifier", maxLength: 255)
            endpoint.EndpointIdentifier = identifier
        }
        if let type = input.EndpointType {
            guard ["SOURCE", "TARGET"].contains(type.uppercased()) else {
                throw DMSError.invalidParameter("EndpointType must be source or target; got '\(type)'.")
            }
            endpoint.EndpointType = type.uppercased()
        }
        if let name = input.EngineName {
            let engine = try EndpointModel.engine(named: name)
            endpoint.EngineName = engine.name
            endpoint.EngineDisplayName = engine.display
        }
        endpoint.Username = input.Username ?? endpoint.Username
        endpoint.ServerName = input.ServerName ?? endpoint.ServerName
        endpoint.Port = input.Port ?? endpoint.Port
        endpoint.DatabaseName = input.DatabaseName ?? endpoint.DatabaseName
        endpoint.ExtraConnectionAttributes = input.ExtraConnectionAttributes ?? endpoint.ExtraConnectionAttributes
        endpoint.SslMode = input.SslMode ?? endpoint.SslMode
        endpoint.CertificateArn = input.CertificateArn ?? endpoint.CertificateArn
        let exact = input.ExactSettings ?? false
        if let settings = input.PostgreSQLSettings {
            endpoint.PostgreSQLSettings = exact ? withoutPassword(settings) : merge(endpoint.PostgreSQLSettings, withoutPassword(settings))
        }
        if let settings = input.MySQLSettings {
            endpoint.MySQLSettings = exact ? withoutPassword(settings) : merge(endpoint.MySQLSettings, withoutPassword(settings))
        }
        try validate(endpoint)
        do {
            try catalog.update(.endpoint, arn: arn, identifier: endpoint.EndpointIdentifier!, endpoint)
        } catch CatalogError.alreadyExists {
            throw DMSError.alreadyExists("Endpoint with identifier '\(endpoint.EndpointIdentifier!)' already exists.")
        }
        if let password = input.Password ?? input.PostgreSQLSettings?.Password ?? input.MySQLSettings?.Password {
            try catalog.setSecret(password, name: "password", for: arn)
        }
        return ModifyEndpointResponse(Endpoint: endpoint)
    }

    func deleteEndpoint(_ input: DeleteEndpointMessage) throws -> DeleteEndpointResponse {
        var endpoint = try endpoint(input.EndpointArn)
        let arn = endpoint.EndpointArn!
        let users = try catalog.list(.task, as: ReplicationTask.self).filter { $0.SourceEndpointArn == arn || $0.TargetEndpointArn == arn }
        guard users.isEmpty else {
            throw DMSError.invalidState("Endpoint \(endpoint.EndpointIdentifier!) is used by replication task(s) \(users.compactMap(\.ReplicationTaskIdentifier).joined(separator: ", ")); delete them first.")
        }
        try catalog.delete(arn: arn)
        for connection in try catalog.list(.connection, as: Connection.self) where connection.EndpointArn == arn {
            try catalog.delete(arn: Self.connectionKey(connection.ReplicationInstanceArn ?? "", arn))
        }
        endpoint.Status = "deleting"
        return DeleteEndpointResponse(Endpoint: endpoint)
    }

    /// The password-free settings DMS returns.
    func withoutPassword(_ settings: PostgreSQLSettings?) -> PostgreSQLSettings? {
        var settings = settings
        settings?.Password = nil
        return settings
    }

    func withoutPassword(_ settings: MySQLSettings?) -> MySQLSettings? {
        var settings = settings
        settings?.Password = nil
        return settings
    }

    /// Fields set in `update` replace those in `base` (ModifyEndpoint without ExactSettings).
    func merge<T: Codable>(_ base: T?, _ update: T?) -> T? {
        guard let base else { return update }
        guard let update,
              var merged = (try? JSONSerialization.jsonObject(with: DMSJSON.encode(base))) as? [String: Any],
              let changes = (try? JSONSerialization.jsonObject(with: DMSJSON.encode(update))) as? [String: Any] else { return base }
        merged.merge(changes) { _, new in new }
        guard let data = try? JSONSerialization.data(withJSONObject: merged) else { return base }
        return (try? DMSJSON.decoder.decode(T.self, from: data)) ?? base
    }

    /// The URL an endpoint's tasks and tests connect with.
    func connectionURL(_ endpoint: Endpoint) throws -> ConnectionURL {
        try EndpointModel.url(for: endpoint, password: try catalog.secret("password", for: endpoint.EndpointArn!),
                              rootCertificate: try endpoint.CertificateArn.map(rootCertificateFile))
    }

    // MARK: Connections

    static func connectionKey(_ instanceArn: String, _ endpointArn: String) -> String {
        "connection|\(instanceArn)|\(endpointArn)"
    }

    func testConnection(_ input: TestConnectionMessage) throws -> TestConnectionResponse {
        let endpoint = try endpoint(input.EndpointArn)
        let instance = try instance(input.ReplicationInstanceArn)
        let key = Self.connectionKey(instance.ReplicationInstanceArn!, endpoint.EndpointArn!)
        let connection = Connection(ReplicationInstanceArn: instance.ReplicationInstanceArn, EndpointArn: endpoint.EndpointArn,
                                    Status: "testing", EndpointIdentifier: endpoint.EndpointIdentifier,
                                    ReplicationInstanceIdentifier: instance.ReplicationInstanceIdentifier)
        try? catalog.delete(arn: key)
        try catalog.insert(.connection, arn: key, identifier: key, connection)
        // An endpoint that cannot be connected to yet (no server name) fails its test, as in DMS, rather than the call.
        let url = Result { try connectionURL(endpoint) }
        let asSource = endpoint.EndpointType == "SOURCE"
        let catalog = self.catalog
        Task.detached {
            var result = connection
            do {
                let url = try url.get()
                try await BlockingWork.run("ferry-test-connection") { try ConnectionTester.test(url, asSource: asSource) }
                result.Status = "successful"
            } catch {
                result.Status = "failed"
                result.LastFailureMessage = (error as? DMSError)?.message ?? "\(error)"
            }
            try? catalog.update(.connection, arn: key, identifier: key, result)
        }
        return TestConnectionResponse(Connection: connection)
    }

    /// Forgets a connection test's result; one still testing cannot be deleted, as in DMS.
    func deleteConnection(_ input: DeleteConnectionMessage) throws -> DeleteConnectionResponse {
        let key = Self.connectionKey(input.ReplicationInstanceArn ?? "", input.EndpointArn ?? "")
        guard var connection = try catalog.get(.connection, arn: key, as: Connection.self) else {
            throw DMSError.notFound("Connection between endpoint \(input.EndpointArn ?? "") and replication instance \(input.ReplicationInstanceArn ?? "") not found.")
        }
        guard connection.Status != "testing" else {
            throw DMSError.invalidState("The connection of endpoint \(connection.EndpointIdentifier ?? "") is being tested; delete it once the test ends.")
        }
        try catalog.delete(arn: key)
        connection.Status = "deleting"
        return DeleteConnectionResponse(Connection: connection)
    }

    func describeConnections(_ input: DescribeConnectionsMessage) throws -> DescribeConnectionsResponse {
        let filters = try FilterSet(input.Filters, allowed: ["endpoint-arn", "replication-instance-arn"])
        let (items, marker) = try describe(try catalog.list(.connection, as: Connection.self), filters: filters,
                                           page: try Page(marker: input.Marker, maxRecords: input.MaxRecords),
                                           noneFound: "No connections found matching provided filters") { connection, name in
            name == "endpoint-arn" ? connection.EndpointArn : connection.ReplicationInstanceArn
        }
        return DescribeConnectionsResponse(Marker: marker, Connections: items)
    }

    func describeEndpointSettings(_ input: DescribeEndpointSettingsMessage) throws -> DescribeEndpointSettingsResponse {
        let engine = try EndpointModel.engine(named: input.EngineName ?? "")
        let page = try Page(marker: input.Marker, maxRecords: input.MaxRecords)
        let (items, marker) = page.slice(EndpointModel.honoredSettings(engine.engine))
        return DescribeEndpointSettingsResponse(Marker: marker, EndpointSettings: items)
    }

    func describeEndpointTypes(_ input: DescribeEndpointTypesMessage) throws -> DescribeEndpointTypesResponse {
        let filters = try FilterSet(input.Filters, allowed: ["engine-name", "endpoint-type"])
        let page = try Page(marker: input.Marker, maxRecords: input.MaxRecords)
        let all = EndpointModel.engines.flatMap { engine in
            ["SOURCE", "TARGET"].map { type in
                SupportedEndpointType(EngineName: engine.name, SupportsCDC: false, EndpointType: type, EngineDisplayName: engine.display)
            }
        }
        let matching = all.filter { item in filters.matches { $0 == "engine-name" ? item.EngineName : item.EndpointType } }
        let (items, marker) = page.slice(matching)
        return DescribeEndpointTypesResponse(Marker: marker, SupportedEndpointTypes: items)
    }
}
