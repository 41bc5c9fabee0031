import Foundation

/// One attempt to deliver an event to a webhook.
public struct DeliveryRecord: Sendable, Equatable {
    public var subscription: String
    public var webhook: String
    /// The event's `webhook-id`, the same for every attempt.
    public var messageID: String
    public var eventMessage: String
    public var attempt: Int
    public var responseCode: Int?
    public var error: String?
    public var delivered: Bool
    public var at: Date

    public init(subscription: String, webhook: String, messageID: String, eventMessage: String, attempt: Int,
                responseCode: Int?, error: String?, delivered: Bool, at: Date = Date()) {
        self.subscription = subscription
        self.webhook = webhook
        self.messageID = messageID
        self.eventMessage = eventMessage
        self.attempt = attempt
        self.responseCode = responseCode
        self.error = error
        self.delivered = delivered
        self.at = at
    }
}

extension Catalog {
    /// The delivery log keeps this many attempts; older ones go.
    static let keptDeliveries = 10_000

    public func addDelivery(_ record: DeliveryRecord) throws {
        try store.write { db in
            try db.execute("""
                INSERT INTO webhook_deliveries (subscription, webhook, message_id, event_message, attempt, response_code, error, delivered, at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, [record.subscription, record.webhook, record.messageID, record.eventMessage, record.attempt,
                                 record.responseCode, record.error, record.delivered, record.at.timeIntervalSince1970])
            try db.execute("DELETE FROM webhook_deliveries WHERE id <= (SELECT max(id) FROM webhook_deliveries) - ?", [Self.keptDeliveries])
        }
    }

    /// The newest attempts first, of one subscription or of all.
    public func deliveries(subscription: String?, limit: Int) throws -> [DeliveryRecord] {
        try store.read { db in
            let rows = if let subscription {
                try db.rows("SELECT * FROM webhook_deliveries WHERE subscription = ? ORDER BY id DESC LIMIT ?", [subscription, limit])
            } else {
                try db.rows("SELECT * FROM webhook_deliveries ORDER BY id DESC LIMIT ?", [limit])
            }
            return try rows.map { row in
                DeliveryRecord(subscription: try row.string("subscription"), webhook: try row.string("webhook"),
                               messageID: try row.string("message_id"), eventMessage: try row.string("event_message"),
                               attempt: try row.int("attempt"), responseCode: try row.optionalInt("response_code"),
                               error: try row.optionalString("error"), delivered: try row.bool("delivered"), at: try row.date("at"))
            }
        }
    }
}
