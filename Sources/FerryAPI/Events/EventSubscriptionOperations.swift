import FerryCatalog
import Foundation

/// DMS's event categories and subscriptions. A subscription's `SnsTopicArn` names one of the server's
/// webhooks (`ferry serve --webhook NAME=URL`) by its last part: `arn:aws:sns:<region>:<account>:NAME`.
extension DMSService {
    static let sourceTypes = EventCatalog.categories.map(\.sourceType)

    /// The catalog key of a subscription, which the API names by its name only.
    static func subscriptionKey(_ name: String) -> String { "event-subscription:\(name)" }

    func describeEventCategories(_ input: DescribeEventCategoriesMessage) throws -> DescribeEventCategoriesResponse {
        if let type = input.SourceType, !Self.sourceTypes.contains(type) {
            throw DMSError.invalidParameter("SourceType must be one of \(Self.sourceTypes.joined(separator: ", ")); got '\(type)'.")
        }
        if input.Filters?.isEmpty == false { throw DMSError.invalidParameter("DescribeEventCategories takes no Filters.") }
        return DescribeEventCategoriesResponse(EventCategoryGroupList: EventCatalog.categories
            .filter { input.SourceType == nil || $0.sourceType == input.SourceType }
            .map { EventCategoryGroup(SourceType: $0.sourceType, EventCategories: $0.categories) })
    }

    func subscription(_ name: String?) throws -> EventSubscription {
        guard let name, let subscription = try catalog.get(.eventSubscription, arn: Self.subscriptionKey(name), as: EventSubscription.self) else {
            throw DMSError.notFound("Event subscription \(name ?? "") not found.")
        }
        return subscription
    }

    /// Checks a subscription's topic, source type and categories; returns its status.
    private func check(topic: String, sourceType: String?, categories: [String]?) throws -> String {
        guard topic.hasPrefix("arn:") && topic.split(separator: ":", omittingEmptySubsequences: false).count == 6 else {
            throw DMSError("SNSInvalidTopicFault", "SnsTopicArn must be an ARN such as arn:aws:sns:us-east-1:123456789012:NAME, whose NAME is a webhook of the server (ferry serve --webhook NAME=URL); got '\(topic)'.")
        }
        if let sourceType, !Self.sourceTypes.contains(sourceType) {
            throw DMSError.invalidParameter("SourceType must be one of \(Self.sourceTypes.joined(separator: ", ")); got '\(sourceType)'.")
        }
        let known = Set(EventCatalog.categories.filter { sourceType == nil || $0.sourceType == sourceType }.flatMap(\.categories))
        if let unknown = categories?.first(where: { !known.contains($0) }) {
            throw DMSError.invalidParameter("EventCategories: '\(unknown)' is not a category of \(sourceType ?? "any source type"); DescribeEventCategories lists them.")
        }
        return publisher.webhook(named: topic) == nil ? "topic-not-exist" : "active"
    }

    func createEventSubscription(_ input: CreateEventSubscriptionMessage) throws -> CreateEventSubscriptionResponse {
        let name = input.SubscriptionName ?? ""
        guard !name.isEmpty, name.count < 255, name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }) else {
            throw DMSError.invalidParameter("SubscriptionName must be 1 to 254 ASCII letters, digits and hyphens; got '\(name)'.")
        }
        let status = try check(topic: input.SnsTopicArn ?? "", sourceType: input.SourceType, categories: input.EventCategories)
        if input.SourceIds?.isEmpty == false, input.SourceType == nil {
            throw DMSError.invalidParameter("SourceIds need a SourceType: the sources are all of one type.")
        }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd HH:mm:ss.SSS"
        let subscription = EventSubscription(CustomerAwsId: accountID, CustSubscriptionId: name, SnsTopicArn: input.SnsTopicArn, Status: status,
                                             SubscriptionCreationTime: formatter.string(from: Date()), SourceType: input.SourceType,
                                             SourceIdsList: input.SourceIds ?? [], EventCategoriesList: input.EventCategories ?? [],
                                             Enabled: input.Enabled ?? true)
        try checkQuota("EventSubscriptions")
        try insert(.eventSubscription, arn: Self.subscriptionKey(name), identifier: name, subscription)
        try storeTags(input.Tags, for: Self.subscriptionKey(name))
        return CreateEventSubscriptionResponse(EventSubscription: subscription)
    }

    func modifyEventSubscription(_ input: ModifyEventSubscriptionMessage) throws -> ModifyEventSubscriptionResponse {
        let current = try subscription(input.SubscriptionName)
        let topic = input.SnsTopicArn ?? current.SnsTopicArn ?? ""
        let sourceType = input.SourceType ?? current.SourceType
        let status = try check(topic: topic, sourceType: sourceType, categories: input.EventCategories ?? current.EventCategoriesList)
        let changed = try catalog.modify(.eventSubscription, arn: Self.subscriptionKey(current.CustSubscriptionId!), as: EventSubscription.self) {
            $0.SnsTopicArn = topic
            $0.SourceType = sourceType
            $0.EventCategoriesList = input.EventCategories ?? $0.EventCategoriesList
            $0.Enabled = input.Enabled ?? $0.Enabled
            $0.Status = status
        }
        return ModifyEventSubscriptionResponse(EventSubscription: changed)
    }

    func deleteEventSubscription(_ input: DeleteEventSubscriptionMessage) throws -> DeleteEventSubscriptionResponse {
        var current = try subscription(input.SubscriptionName)
        try catalog.delete(arn: Self.subscriptionKey(current.CustSubscriptionId!))
        current.Status = "deleting"
        return DeleteEventSubscriptionResponse(EventSubscription: current)
    }

    func describeEventSubscriptions(_ input: DescribeEventSubscriptionsMessage) throws -> DescribeEventSubscriptionsResponse {
        let filters = try FilterSet(input.Filters, allowed: ["event-subscription-id"])
        var all = try catalog.list(.eventSubscription, as: EventSubscription.self)
        if let name = input.SubscriptionName { all = [try subscription(name)] }
        let (items, marker) = try describe(all, filters: filters, page: try Page(marker: input.Marker, maxRecords: input.MaxRecords),
                                           noneFound: "No event subscriptions found matching provided filters") { subscription, _ in
            subscription.CustSubscriptionId
        }
        return DescribeEventSubscriptionsResponse(Marker: marker, EventSubscriptionsList: items)
    }
}

/// `DescribeEventDeliveries` (Ferry's): the webhook delivery log, newest attempt first.
struct DescribeEventDeliveriesMessage: DMSShape {
    static let requiredMembers: [String] = []
    /// Only this subscription's deliveries.
    var SubscriptionName: String?
    /// At most this many attempts (1 to 1,000; default 100).
    var MaxRecords: Int?
}

struct DescribeEventDeliveriesResponse: DMSShape {
    static let requiredMembers: [String] = []
    var Deliveries: [EventDelivery]?
}

struct EventDelivery: DMSShape {
    static let requiredMembers: [String] = []
    var SubscriptionName: String?
    var Webhook: String?
    /// The `webhook-id` header: the same for every attempt at one event.
    var MessageId: String?
    var EventMessage: String?
    var Attempt: Int?
    var ResponseCode: Int?
    var Error: String?
    var Delivered: Bool?
    var Time: Date?
}

extension DMSService {
    func describeEventDeliveries(_ input: DescribeEventDeliveriesMessage) throws -> DescribeEventDeliveriesResponse {
        let limit = input.MaxRecords ?? 100
        guard (1...1000).contains(limit) else { throw DMSError.invalidParameter("MaxRecords must be between 1 and 1000; got \(limit).") }
        if let name = input.SubscriptionName { _ = try subscription(name) }
        return DescribeEventDeliveriesResponse(Deliveries: try catalog.deliveries(subscription: input.SubscriptionName, limit: limit).map {
            EventDelivery(SubscriptionName: $0.subscription, Webhook: $0.webhook, MessageId: $0.messageID, EventMessage: $0.eventMessage,
                          Attempt: $0.attempt, ResponseCode: $0.responseCode, Error: $0.error, Delivered: $0.delivered, Time: $0.at)
        })
    }
}
