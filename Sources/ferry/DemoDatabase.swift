import Foundation
import GRDB

/// A small online shop in SQLite: customers, products, orders and order lines, with keys, indexes,
/// foreign keys and values that exercise the type mapping (unicode, decimals, timestamps, JSON, blobs).
enum DemoDatabase {
    static func create(at path: String, orders: Int) throws {
        let queue = try DatabaseQueue(path: path)
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd HH:mm:ss"
        let customers = max(orders / 10, 5)
        let products = max(orders / 250, 5)
        try queue.write { db in
            try db.execute(sql: """
                CREATE TABLE customers (
                  id INTEGER PRIMARY KEY,
                  email VARCHAR(200) NOT NULL UNIQUE,
                  name TEXT NOT NULL,
                  country CHARACTER(2),
                  created_at DATETIME NOT NULL
                );
                CREATE TABLE products (
                  id INTEGER PRIMARY KEY,
                  sku VARCHAR(32) NOT NULL,
                  title TEXT NOT NULL,
                  price DECIMAL_TEXT(10,2) NOT NULL,
                  attributes JSON_TEXT,
                  thumbnail BLOB,
                  active BOOLEAN NOT NULL DEFAULT 1
                );
                CREATE UNIQUE INDEX products_sku ON products (sku);
                CREATE TABLE orders (
                  id INTEGER PRIMARY KEY,
                  customer_id INTEGER NOT NULL REFERENCES customers (id),
                  ordered_at TIMESTAMPTZ NOT NULL,
                  status VARCHAR(16) NOT NULL DEFAULT 'new',
                  note TEXT
                );
                CREATE INDEX orders_customer ON orders (customer_id);
                CREATE TABLE order_lines (
                  order_id INTEGER NOT NULL REFERENCES orders (id),
                  line INTEGER NOT NULL,
                  product_id INTEGER NOT NULL REFERENCES products (id),
                  quantity INTEGER NOT NULL,
                  unit_price DECIMAL_TEXT(10,2) NOT NULL,
                  PRIMARY KEY (order_id, line)
                );
                """)
            let names = ["Ada Lovelace", "Jürgen Groß", "Zoë Ångström", "李雷", "Olúwadámilárè", "Ñandú 🦤", "Renée O'Hara"]
            let countries = ["GB", "DE", "SE", "CN", "NG", "AR", "IE"]
            let insertCustomer = try db.makeStatement(sql: "INSERT INTO customers VALUES (?, ?, ?, ?, ?)")
            for i in 1...customers {
                try insertCustomer.execute(arguments: [i, "customer\(i)@example.com", names[i % names.count], countries[i % countries.count],
                                                       timestamp(day: i % 365, second: i * 37, formatter)])
            }
            let insertProduct = try db.makeStatement(sql: "INSERT INTO products VALUES (?, ?, ?, ?, ?, ?, ?)")
            for i in 1...products {
                let price = "\(5 + i % 200).\(String(format: "%02d", i * 7 % 100))"
                let attributes = "{\"colour\": \"\(["red", "green", "blue"][i % 3])\", \"tags\": [\"new\", \"☕\"]}"
                try insertProduct.execute(arguments: [i, "SKU-\(i)", "Product \(i) — \"deluxe\"\tedition", price, attributes,
                                                      Data((0..<16).map { UInt8(($0 * 17 + i) % 256) }), i % 5 != 0])
            }
            let insertOrder = try db.makeStatement(sql: "INSERT INTO orders VALUES (?, ?, ?, ?, ?)")
            let insertLine = try db.makeStatement(sql: "INSERT INTO order_lines VALUES (?, ?, ?, ?, ?)")
            for i in 1...orders {
                try insertOrder.execute(arguments: [i, 1 + i % customers, timestamp(day: i % 365, second: i * 13, formatter) + ".\(String(format: "%06d", i % 1_000_000))+00",
                                                    ["new", "paid", "shipped"][i % 3], i % 4 == 0 ? nil : "leave at door\nring twice"])
                for line in 1...(1 + i % 4) {
                    let product = 1 + (i * line) % products
                    try insertLine.execute(arguments: [i, line, product, 1 + line % 3, "\(5 + product % 200).\(String(format: "%02d", product * 7 % 100))"])
                }
            }
        }
    }

    /// A UTC timestamp `day` days and `second` seconds into 2024.
    private static func timestamp(day: Int, second: Int, _ formatter: DateFormatter) -> String {
        formatter.string(from: Date(timeIntervalSince1970: 1_704_067_200 + Double(day * 86400 + second % 86400)))
    }
}
