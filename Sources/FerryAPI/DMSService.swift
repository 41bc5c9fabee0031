import FerryCatalog
import FerryCluster
import FerryCore
import FerryTelemetry
import Foundation
import Logging

/// The DMS operations over the catalog and the task supervisor. Knows nothing of HTTP.
public final class DMSService: Sendable {
    let catalog: Catalog
    let supervisor: TaskSupervisor
    let accountID: String
    /// What the create operations may add (DescribeAccountAttributes).
    let quotas: AccountQuotas
    let logger: Logger
    /// The tasks' and the node's figures, which `GET /metrics` exposes.
    public let telemetry: Telemetry
    /// Each task's own log, under the data folder.
    let taskLogs: TaskLogs
    /// Records events and delivers them to subscriptions' webhooks.
    let publisher: EventPublisher
    /// When this server started (DescribeNodes).
    let startTime = Date()
    /// This server as a node of the cluster.
    let node: ClusterNodeIdentity
    /// The chunks of other nodes' loads this node is loading.
    let chunkHelpers = ChunkHelpers()

    /// `webhooks` are where event subscriptions may deliver; `alarms` the thresholds of Ferry's alarm events (docs/events.md);
    /// `nodeID` names this server among the nodes sharing the catalog, and `address` is where its API listens.
    public init(catalog: Catalog, accountID: String, webhooks: [Webhook] = [], alarms: AlarmSettings = AlarmSettings(),
                quotas: AccountQuotas = AccountQuotas(), nodeID: String = "local", address: String = "", lease: LeasePolicy = LeasePolicy(),
                logger: Logger = Logger(label: "ferry.api")) {
        self.catalog = catalog
        self.quotas = quotas
        node = ClusterNodeIdentity(id: nodeID, address: address, registry: ClusterRegistry(catalog: catalog, policy: lease))
        self.accountID = accountID
        self.logger = logger
        telemetry = Telemetry(dataDirectory: catalog.directory)
        taskLogs = TaskLogs(dataDirectory: catalog.directory)
        publisher = EventPublisher(catalog: catalog, accountID: accountID, webhooks: webhooks, logger: logger)
        supervisor = TaskSupervisor(catalog: catalog, node: node, logger: logger, telemetry: telemetry, taskLogs: taskLogs, publisher: publisher, alarms: alarms)
    }

    /// Each webhook's signing secret, and whether it was made just now (shown once, then only sealed in the catalog).
    public func webhookSecrets() throws -> [(webhook: Webhook, secret: String, created: Bool)] {
        try publisher.webhooks.values.sorted { $0.name < $1.name }.map { webhook in
            let (secret, created) = try publisher.secret(of: webhook)
            return (webhook, secret, created)
        }
    }

    /// After a start, an assessment run that was in progress ends in error and a cutover that was in
    /// progress is undone. The node joins the cluster, and a task that was running (or starting) with no
    /// live node holding it resumes here, as `resume-processing` would: tables that did not finish loading
    /// load again, CDC continues from the target's position. A task that was stopping ends stopped; one
    /// that cannot resume is marked failed with the reason.
    public func recover() async throws {
        try recoverAssessmentRuns()
        try join()
        await recoverCutovers()
        for task in try catalog.list(.task, as: ReplicationTask.self) where ["starting", "running", "stopping"].contains(task.Status ?? "") {
            try registry.want(task: task.ReplicationTaskArn!)
        }
        await clusterRound()
    }

    /// Runs one operation named by its `X-Amz-Target` suffix on a JSON body; `region` comes from the signature.
    public func handle(operation name: String, body: Data, region: String) async throws -> Data {
        let context = RequestContext(region: region, account: accountID)
        func run<I: DMSShape, O: Encodable>(_ input: I.Type, _ body: Data, _ action: (I) async throws -> O) async throws -> Data {
            try DMSJSON.encode(try await action(try DMSJSON.decode(I.self, from: body)))
        }
        if let operation = FerryOperationName(rawValue: name) {
            switch operation {
            case .startCutover: return try await run(StartCutoverMessage.self, body) { try await startCutover($0, context) }
            case .describeCutovers: return try await run(DescribeCutoversMessage.self, body) { try describeCutovers($0) }
            case .describeCutoverReadiness: return try await run(DescribeCutoverReadinessMessage.self, body) { try await describeCutoverReadiness($0) }
            case .completeCutover: return try await run(CompleteCutoverMessage.self, body) { try await completeCutover($0) }
            case .describeAssessmentReport: return try await run(DescribeAssessmentReportMessage.self, body) { try describeAssessmentReport($0) }
            case .getTaskLogEvents: return try await run(GetTaskLogEventsMessage.self, body) { try getTaskLogEvents($0) }
            case .describeEventDeliveries: return try await run(DescribeEventDeliveriesMessage.self, body) { try describeEventDeliveries($0) }
            case .describeTableMappingMatches:
                return try await run(DescribeTableMappingMatchesMessage.self, body) { try describeTableMappingMatches($0) }
            case .describeNodes: return try await run(DescribeNodesMessage.self, body) { try await describeNodes($0) }
            case .describeChangeStream: return try await run(DescribeChangeStreamMessage.self, body) { try await describeChangeStream($0) }
            }
        }
        guard let operation = DMSOperationName(rawValue: name) else {
            throw DMSError("UnknownOperationException", "Operation \(name) is not supported by Ferry.")
        }
        switch operation {
        case .createEndpoint: return try await run(CreateEndpointMessage.self, body) { try createEndpoint($0, context) }
        case .describeEndpoints: return try await run(DescribeEndpointsMessage.self, body) { try describeEndpoints($0) }
        case .modifyEndpoint: return try await run(ModifyEndpointMessage.self, body) { try modifyEndpoint($0) }
        case .deleteEndpoint: return try await run(DeleteEndpointMessage.self, body) { try deleteEndpoint($0) }
        case .testConnection: return try await run(TestConnectionMessage.self, body) { try testConnection($0) }
        case .describeConnections: return try await run(DescribeConnectionsMessage.self, body) { try describeConnections($0) }
        case .describeEndpointTypes: return try await run(DescribeEndpointTypesMessage.self, body) { try describeEndpointTypes($0) }
        case .deleteConnection: return try await run(DeleteConnectionMessage.self, body) { try deleteConnection($0) }
        case .describeEndpointSettings: return try await run(DescribeEndpointSettingsMessage.self, body) { try describeEndpointSettings($0) }
        case .refreshSchemas: return try await run(RefreshSchemasMessage.self, body) { try refreshSchemas($0) }
        case .describeRefreshSchemasStatus:
            return try await run(DescribeRefreshSchemasStatusMessage.self, body) { try describeRefreshSchemasStatus($0) }
        case .describeSchemas: return try await run(DescribeSchemasMessage.self, body) { try describeSchemas($0) }
        case .describeOrderableReplicationInstances:
            return try await run(DescribeOrderableReplicationInstancesMessage.self, body) { try describeOrderableInstances($0, context) }
        case .describeEngineVersions: return try await run(DescribeEngineVersionsMessage.self, body) { try describeEngineVersions($0) }
        case .describePendingMaintenanceActions:
            return try await run(DescribePendingMaintenanceActionsMessage.self, body) { try describePendingMaintenance($0) }
        case .createReplicationInstance: return try await run(CreateReplicationInstanceMessage.self, body) { try createInstance($0, context) }
        case .describeReplicationInstances: return try await run(DescribeReplicationInstancesMessage.self, body) { try describeInstances($0) }
        case .modifyReplicationInstance: return try await run(ModifyReplicationInstanceMessage.self, body) { try modifyInstance($0) }
        case .deleteReplicationInstance: return try await run(DeleteReplicationInstanceMessage.self, body) { try deleteInstance($0) }
        case .rebootReplicationInstance: return try await run(RebootReplicationInstanceMessage.self, body) { try await rebootInstance($0) }
        case .moveReplicationTask: return try await run(MoveReplicationTaskMessage.self, body) { try await moveTask($0) }
        case .createReplicationTask: return try await run(CreateReplicationTaskMessage.self, body) { try createTask($0, context) }
        case .describeReplicationTasks: return try await run(DescribeReplicationTasksMessage.self, body) { try describeTasks($0) }
        case .modifyReplicationTask: return try await run(ModifyReplicationTaskMessage.self, body) { try await modifyTask($0) }
        case .startReplicationTask: return try await run(StartReplicationTaskMessage.self, body) { try await startTask($0) }
        case .stopReplicationTask: return try await run(StopReplicationTaskMessage.self, body) { try await stopTask($0) }
        case .deleteReplicationTask: return try await run(DeleteReplicationTaskMessage.self, body) { try await deleteTask($0) }
        case .reloadTables: return try await run(ReloadTablesMessage.self, body) { try await reloadTables($0) }
        case .describeTableStatistics: return try await run(DescribeTableStatisticsMessage.self, body) { try describeTableStatistics($0) }
        case .describeEvents: return try await run(DescribeEventsMessage.self, body) { try describeEvents($0) }
        case .addTagsToResource: return try await run(AddTagsToResourceMessage.self, body) { try addTags($0) }
        case .removeTagsFromResource: return try await run(RemoveTagsFromResourceMessage.self, body) { try removeTags($0) }
        case .listTagsForResource: return try await run(ListTagsForResourceMessage.self, body) { try listTags($0) }
        case .startReplicationTaskAssessmentRun:
            return try await run(StartReplicationTaskAssessmentRunMessage.self, body) { try startAssessmentRun($0, context) }
        case .describeReplicationTaskAssessmentRuns:
            return try await run(DescribeReplicationTaskAssessmentRunsMessage.self, body) { try describeAssessmentRuns($0) }
        case .describeReplicationTaskIndividualAssessments:
            return try await run(DescribeReplicationTaskIndividualAssessmentsMessage.self, body) { try describeIndividualAssessments($0) }
        case .describeApplicableIndividualAssessments:
            return try await run(DescribeApplicableIndividualAssessmentsMessage.self, body) { try describeApplicableAssessments($0) }
        case .cancelReplicationTaskAssessmentRun:
            return try await run(CancelReplicationTaskAssessmentRunMessage.self, body) { try cancelAssessmentRun($0) }
        case .deleteReplicationTaskAssessmentRun:
            return try await run(DeleteReplicationTaskAssessmentRunMessage.self, body) { try deleteAssessmentRun($0) }
        case .startReplicationTaskAssessment:
            return try await run(StartReplicationTaskAssessmentMessage.self, body) { try startLegacyAssessment($0, context) }
        case .describeReplicationTaskAssessmentResults:
            return try await run(DescribeReplicationTaskAssessmentResultsMessage.self, body) { try describeLegacyAssessmentResults($0) }
        case .describeReplicationInstanceTaskLogs:
            return try await run(DescribeReplicationInstanceTaskLogsMessage.self, body) { try describeInstanceTaskLogs($0) }
        case .describeEventCategories: return try await run(DescribeEventCategoriesMessage.self, body) { try describeEventCategories($0) }
        case .createEventSubscription: return try await run(CreateEventSubscriptionMessage.self, body) { try createEventSubscription($0) }
        case .modifyEventSubscription: return try await run(ModifyEventSubscriptionMessage.self, body) { try modifyEventSubscription($0) }
        case .deleteEventSubscription: return try await run(DeleteEventSubscriptionMessage.self, body) { try deleteEventSubscription($0) }
        case .describeEventSubscriptions: return try await run(DescribeEventSubscriptionsMessage.self, body) { try describeEventSubscriptions($0) }
        case .createReplicationSubnetGroup:
            return try await run(CreateReplicationSubnetGroupMessage.self, body) { try createSubnetGroup($0, context) }
        case .describeReplicationSubnetGroups:
            return try await run(DescribeReplicationSubnetGroupsMessage.self, body) { try describeSubnetGroups($0) }
        case .modifyReplicationSubnetGroup:
            return try await run(ModifyReplicationSubnetGroupMessage.self, body) { try modifySubnetGroup($0, context) }
        case .deleteReplicationSubnetGroup:
            return try await run(DeleteReplicationSubnetGroupMessage.self, body) { try deleteSubnetGroup($0, context) }
        case .importCertificate: return try await run(ImportCertificateMessage.self, body) { try importCertificate($0, context) }
        case .describeCertificates: return try await run(DescribeCertificatesMessage.self, body) { try describeCertificates($0) }
        case .deleteCertificate: return try await run(DeleteCertificateMessage.self, body) { try deleteCertificate($0) }
        case .describeAccountAttributes:
            return try await run(DescribeAccountAttributesMessage.self, body) { try describeAccountAttributes($0) }
        case .createReplicationConfig: return try await run(CreateReplicationConfigMessage.self, body) { try createReplicationConfig($0, context) }
        case .describeReplicationConfigs: return try await run(DescribeReplicationConfigsMessage.self, body) { try describeReplicationConfigs($0) }
        case .modifyReplicationConfig: return try await run(ModifyReplicationConfigMessage.self, body) { try await modifyReplicationConfig($0, context) }
        case .deleteReplicationConfig: return try await run(DeleteReplicationConfigMessage.self, body) { try await deleteReplicationConfig($0) }
        case .startReplication: return try await run(StartReplicationMessage.self, body) { try await startReplication($0) }
        case .stopReplication: return try await run(StopReplicationMessage.self, body) { try await stopReplication($0) }
        case .describeReplications: return try await run(DescribeReplicationsMessage.self, body) { try describeReplications($0) }
        case .describeReplicationTableStatistics:
            return try await run(DescribeReplicationTableStatisticsMessage.self, body) { try describeReplicationTableStatistics($0) }
        case .reloadReplicationTables: return try await run(ReloadReplicationTablesMessage.self, body) { try await reloadReplicationTables($0) }
        }
    }

    /// Records an event for a resource.
    func event(_ sourceIdentifier: String, type: String, _ message: String, categories: [String]) {
        if type == "replication-task" { return supervisor.events.record(sourceIdentifier, message, categories) }
        publisher.publish(EventRecord(sourceIdentifier: sourceIdentifier, sourceType: type, message: message, categories: categories))
    }
}

/// What an operation knows about its caller.
struct RequestContext: Sendable {
    var region: String
    var account: String
}

extension DMSService {
    /// Stores a resource, turning a taken identifier into DMS's fault.
    func insert<T: Encodable>(_ kind: Catalog.Kind, arn: String, identifier: String, _ body: T) throws {
        do { try catalog.insert(kind, arn: arn, identifier: identifier, body) } catch let error as CatalogError {
            if case .alreadyExists = error {
                throw DMSError.alreadyExists("\(kindName(kind)) with identifier '\(identifier)' already exists.")
            }
            throw error
        }
    }

    func kindName(_ kind: Catalog.Kind) -> String {
        switch kind {
        case .endpoint: return "Endpoint"
        case .instance: return "Replication instance"
        case .task: return "Replication task"
        case .connection: return "Connection"
        case .assessmentRun: return "Assessment run"
        case .eventSubscription: return "Event subscription"
        case .subnetGroup: return "Replication subnet group"
        case .certificate: return "Certificate"
        case .replicationConfig: return "Replication config"
        }
    }

    func storeTags(_ tags: [Tag]?, for arn: String) throws {
        let pairs = (tags ?? []).compactMap { tag in tag.Key.map { ($0, tag.Value ?? "") } }
        if !pairs.isEmpty { try catalog.addTags(pairs, to: arn) }
    }
}
