import FerryCatalog
import FerryConnectors
import FerryCore
import Foundation

/// RefreshSchemas, DescribeRefreshSchemasStatus and DescribeSchemas: an endpoint's schemas, read from its
/// database's catalog in the background as DMS does, and kept with the endpoint until the next refresh.
extension DMSService {
    /// The last refresh of an endpoint's schemas, stored as a document of the endpoint.
    struct SchemaRefresh: Codable {
        var status: RefreshSchemasStatus
        var schemas: [String]
    }

    static let schemaRefreshDocument = "schema-refresh"

    func refreshSchemas(_ input: RefreshSchemasMessage) throws -> RefreshSchemasResponse {
        let endpoint = try endpoint(input.EndpointArn)
        let instance = try instance(input.ReplicationInstanceArn)
        let arn = endpoint.EndpointArn!
        if try schemaRefresh(arn)?.status.Status == "refreshing" {
            throw DMSError.invalidState("The schemas of endpoint \(endpoint.EndpointIdentifier ?? arn) are being refreshed; wait for DescribeRefreshSchemasStatus to say so before another refresh.")
        }
        let refresh = SchemaRefresh(status: RefreshSchemasStatus(EndpointArn: arn, ReplicationInstanceArn: instance.ReplicationInstanceArn,
                                                                 Status: "refreshing", LastRefreshDate: Date()), schemas: [])
        try Self.save(refresh, for: arn, in: catalog)
        // An endpoint that cannot be connected to yet fails its refresh, as its connection test does, rather than the call.
        let url = Result { try connectionURL(endpoint) }
        let catalog = self.catalog
        let started = refresh
        Task.detached {
            var refresh = started
            do {
                let url = try url.get()
                refresh.schemas = try await BlockingWork.run("ferry-refresh-schemas") { try Connectors.source(for: url).schemaNames() }
                refresh.status.Status = "successful"
            } catch {
                refresh.status.Status = "failed"
                refresh.status.LastFailureMessage = (error as? DMSError)?.message ?? "\(error)"
            }
            refresh.status.LastRefreshDate = Date()
            try? Self.save(refresh, for: arn, in: catalog)
        }
        return RefreshSchemasResponse(RefreshSchemasStatus: started.status)
    }

    func describeRefreshSchemasStatus(_ input: DescribeRefreshSchemasStatusMessage) throws -> DescribeRefreshSchemasStatusResponse {
        let endpoint = try endpoint(input.EndpointArn)
        guard let refresh = try schemaRefresh(endpoint.EndpointArn!) else {
            throw DMSError.notFound("The schemas of endpoint \(endpoint.EndpointIdentifier ?? "") have not been refreshed; call RefreshSchemas.")
        }
        return DescribeRefreshSchemasStatusResponse(RefreshSchemasStatus: refresh.status)
    }

    /// The schemas the last successful refresh found.
    func describeSchemas(_ input: DescribeSchemasMessage) throws -> DescribeSchemasResponse {
        let endpoint = try endpoint(input.EndpointArn)
        let page = try Page(marker: input.Marker, maxRecords: input.MaxRecords)
        let name = endpoint.EndpointIdentifier ?? ""
        guard let refresh = try schemaRefresh(endpoint.EndpointArn!) else {
            throw DMSError.invalidState("The schemas of endpoint \(name) have not been read yet; call RefreshSchemas first.")
        }
        switch refresh.status.Status {
        case "refreshing": throw DMSError.invalidState("The schemas of endpoint \(name) are being refreshed; try again when DescribeRefreshSchemasStatus says successful.")
        case "failed": throw DMSError.invalidState("The last refresh of endpoint \(name)'s schemas failed: \(refresh.status.LastFailureMessage ?? "")")
        default: break
        }
        let (schemas, marker) = page.slice(refresh.schemas)
        return DescribeSchemasResponse(Marker: marker, Schemas: schemas)
    }

    private func schemaRefresh(_ arn: String) throws -> SchemaRefresh? {
        try catalog.document(Self.schemaRefreshDocument, for: arn).map { try JSONDecoder().decode(SchemaRefresh.self, from: Data($0.utf8)) }
    }

    private static func save(_ refresh: SchemaRefresh, for arn: String, in catalog: Catalog) throws {
        try catalog.setDocument(String(decoding: try JSONEncoder().encode(refresh), as: UTF8.self), name: Self.schemaRefreshDocument, for: arn)
    }
}
