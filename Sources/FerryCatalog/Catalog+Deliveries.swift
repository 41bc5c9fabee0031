import Foundation
import GRDB

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
        try database.write { db in
            try db.execute(sql: """
                INSERT INTO webhook_deliveries (subscription, webhook, message_id, event_message, attempt, response_code, error, delivered, at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [record.subscription, record.webhook, record.messageID, record.eventMessage, record.attempt,
                                 record.responseCode, record.error, record.delivered, record.at.timeIntervalSince1970])
            try db.execute(sql: "DELETE FROM webhook_deliveries WHERE id <= (SELECT max(id) FROM webhook_deliveries) - ?", arguments: [Self.keptDeliveries])
        }
    }

    /// The newest attempts first, of one subscription or of all.
    public func deliveries(subscription: String?, limit: Int) throws -> [DeliveryRecord] {
        try database.read { db in
            try Row.fetchAll(db, sql: """
                SELECT * FROM webhook_deliveries WHERE ? IS NULL OR subscription = ? ORDER BY id DESC LIMIT ?
                """, arguments: [subscription, subscription, limit])
            .map { row in
                DeliveryRecord(subscription: row["subscription"], webhook: row["webhook"], messageID: row["message_id"],
                               eventMessage: row["event_message"], attempt: row["attempt"], responseCode: row["response_code"],
                               error: row["error"], delivered: row["delivered"], at: Date(timeIntervalSince1970: row["at"]))
            }
        }
    }
}
