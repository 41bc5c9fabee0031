import FerryCatalog
import Foundation
import Logging
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A webhook the server may deliver events to: `ferry serve --webhook NAME=URL`. A subscription names it in
/// its `SnsTopicArn` (`arn:aws:sns:<region>:<account>:NAME`).
public struct Webhook: Sendable, Equatable {
    public var name: String
    public var url: URL

    public init(name: String, url: URL) {
        self.name = name
        self.url = url
    }
}

/// Records events (DescribeEvents reads them) and delivers each to the webhooks of the subscriptions it
/// matches: a JSON body in EventBridge's shape inside Standard Webhooks' `{type, timestamp, data}`, signed,
/// retried after 1, 5, 30, 120 and 600 seconds, each attempt in the delivery log. A 410 disables the
/// subscription; a receiver that refuses every attempt with 401 or 403 puts it in `no-permission`.
final class EventPublisher: Sendable {
    static let retryDelays: [Double] = [1, 5, 30, 120, 600]
    static let subscriptionSecret = "webhook-secret"

    let catalog: Catalog
    let accountID: String
    let webhooks: [String: Webhook]
    let logger: Logger

    init(catalog: Catalog, accountID: String, webhooks: [Webhook], logger: Logger) {
        self.catalog = catalog
        self.accountID = accountID
        self.webhooks = Dictionary(webhooks.map { ($0.name, $0) }) { a, _ in a }
        self.logger = logger
    }

    /// The webhook an `SnsTopicArn` names, if the server has one by that name.
    func webhook(named topicArn: String) -> Webhook? {
        topicArn.split(separator: ":").last.flatMap { webhooks[String($0)] }
    }

    /// The secret a webhook's deliveries are signed with, made and sealed in the catalog on first use; `created` then.
    func secret(of webhook: Webhook) throws -> (secret: String, created: Bool) {
        let owner = "webhook:\(webhook.name)"
        if let secret = try catalog.secret(Self.subscriptionSecret, for: owner) { return (secret, false) }
        let secret = WebhookSignature.newSecret()
        try catalog.setSecret(secret, name: Self.subscriptionSecret, for: owner)
        return (secret, true)
    }

    func publish(_ event: EventRecord) {
        do { try catalog.addEvent(event) } catch {
            logger.error("cannot record event for \(event.sourceIdentifier): \(error)")
        }
        let subscriptions = (try? catalog.list(.eventSubscription, as: EventSubscription.self)) ?? []
        for subscription in subscriptions where Self.matches(subscription, event) {
            guard let webhook = webhook(named: subscription.SnsTopicArn ?? "") else { continue }
            Task.detached { [self] in await deliver(event, to: webhook, for: subscription) }
        }
    }

    /// Whether a subscription wants an event: enabled, of its source type, one of its categories and
    /// sources (an empty list means all).
    static func matches(_ subscription: EventSubscription, _ event: EventRecord) -> Bool {
        guard subscription.Enabled ?? true else { return false }
        if let type = subscription.SourceType, type != event.sourceType { return false }
        if let categories = subscription.EventCategoriesList, !categories.isEmpty, Set(categories).isDisjoint(with: event.categories) { return false }
        if let sources = subscription.SourceIdsList, !sources.isEmpty, !sources.contains(event.sourceIdentifier) { return false }
        return true
    }

    /// The body: Standard Webhooks' envelope around EventBridge's event.
    func body(_ event: EventRecord, id: String) throws -> Data {
        let time = ISO8601DateFormatter().string(from: event.date)
        let category = event.categories.first ?? "state change"
        let detail: [String: Any] = [
            "type": event.sourceType == "replication-instance" ? "REPLICATION_INSTANCE" : "REPLICATION_TASK",
            "category": category.split(separator: " ").map { $0.capitalized }.joined(),
            "eventId": EventCatalog.eventID(event.message) ?? "FERRY-EVENT",
            "detailMessage": event.message,
            "sourceIdentifier": event.sourceIdentifier,
            "eventCategories": event.categories,
        ]
        let data: [String: Any] = [
            "version": "0", "id": id, "detail-type": EventCatalog.detailType(event.sourceType), "source": "ferry.dms",
            "account": accountID, "time": time, "resources": [String](), "detail": detail,
        ]
        let envelope: [String: Any] = ["type": "dms.\(event.sourceType).\(category.replacingOccurrences(of: " ", with: "-"))",
                                       "timestamp": time, "data": data]
        return try JSONSerialization.data(withJSONObject: envelope, options: [.sortedKeys])
    }

    private func deliver(_ event: EventRecord, to webhook: Webhook, for subscription: EventSubscription) async {
        let id = "msg_" + UUID().uuidString.lowercased()
        let name = subscription.CustSubscriptionId ?? ""
        guard let body = try? body(event, id: id), let secret = try? secret(of: webhook).secret else { return }
        var refusals = 0
        for attempt in 0...Self.retryDelays.count {
            if attempt > 0 { try? await Task.sleep(for: .seconds(Self.retryDelays[attempt - 1])) }
            let timestamp = Int(Date().timeIntervalSince1970)
            var request = URLRequest(url: webhook.url, timeoutInterval: 15)
            request.httpMethod = "POST"
            request.httpBody = body
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
            request.setValue(id, forHTTPHeaderField: "webhook-id")
            request.setValue(String(timestamp), forHTTPHeaderField: "webhook-timestamp")
            request.setValue(WebhookSignature.sign(id: id, timestamp: timestamp, body: body, secret: secret), forHTTPHeaderField: "webhook-signature")
            var code: Int?, failure: String?
            do {
                let (_, response) = try await URLSession.shared.data(for: request)
                code = (response as? HTTPURLResponse)?.statusCode
            } catch {
                failure = error.localizedDescription
            }
            let delivered = code.map { (200..<300).contains($0) } ?? false
            try? catalog.addDelivery(DeliveryRecord(subscription: name, webhook: webhook.name, messageID: id, eventMessage: event.message,
                                                    attempt: attempt + 1, responseCode: code, error: failure, delivered: delivered))
            if delivered { return }
            if code == 410 {
                setSubscription(name) { $0.Enabled = false }
                logger.warning("webhook \(webhook.name) answered 410 Gone: subscription \(name) is disabled")
                return
            }
            if code == 401 || code == 403 { refusals += 1 }
        }
        if refusals == Self.retryDelays.count + 1 { setSubscription(name) { $0.Status = "no-permission" } }
        logger.warning("event for \(event.sourceIdentifier) not delivered to webhook \(webhook.name) after \(Self.retryDelays.count + 1) attempts")
    }

    private func setSubscription(_ name: String, _ change: (inout EventSubscription) -> Void) {
        _ = try? catalog.modify(.eventSubscription, arn: DMSService.subscriptionKey(name), as: EventSubscription.self, change)
    }
}
