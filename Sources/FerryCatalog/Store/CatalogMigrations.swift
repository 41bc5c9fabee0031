/// The catalog's tables, as versioned migrations applied in order, once, in both stores. A migration is
/// never edited after it ships; a change is a new one.
enum CatalogMigrations {
    static let all: [(name: String, sql: [String])] = [
        ("v1", [
            """
            CREATE TABLE resources (arn TEXT PRIMARY KEY, kind TEXT NOT NULL, identifier TEXT NOT NULL,
              created_at {real} NOT NULL, body TEXT NOT NULL, UNIQUE (kind, identifier))
            """,
            "CREATE TABLE secrets (arn TEXT NOT NULL, name TEXT NOT NULL, sealed {blob} NOT NULL, PRIMARY KEY (arn, name))",
            "CREATE TABLE credentials (access_key_id TEXT PRIMARY KEY, sealed_secret {blob} NOT NULL, created_at {real} NOT NULL)",
            """
            CREATE TABLE events (id {serial}, source_identifier TEXT NOT NULL, source_type TEXT NOT NULL, message TEXT NOT NULL,
              categories TEXT NOT NULL, date {real} NOT NULL)
            """,
            "CREATE INDEX events_date ON events (date)",
            "CREATE TABLE tags (arn TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (arn, key))",
            """
            CREATE TABLE table_statistics (task_arn TEXT NOT NULL, schema_name TEXT NOT NULL, table_name TEXT NOT NULL,
              body TEXT NOT NULL, PRIMARY KEY (task_arn, schema_name, table_name))
            """,
        ]),
        ("v2", ["CREATE TABLE documents (arn TEXT NOT NULL, name TEXT NOT NULL, body TEXT NOT NULL, PRIMARY KEY (arn, name))"]),
        ("v3", [
            """
            CREATE TABLE metric_points (seconds INTEGER NOT NULL, namespace TEXT NOT NULL, metric TEXT NOT NULL, dimensions TEXT NOT NULL,
              unit TEXT NOT NULL, start {real} NOT NULL, sample_count {real} NOT NULL, sum {real} NOT NULL, minimum {real} NOT NULL,
              maximum {real} NOT NULL, PRIMARY KEY (seconds, namespace, metric, dimensions, start))
            """,
            "CREATE INDEX metric_points_start ON metric_points (start)",
        ]),
        ("v4", [
            """
            CREATE TABLE webhook_deliveries (id {serial}, subscription TEXT NOT NULL, webhook TEXT NOT NULL, message_id TEXT NOT NULL,
              event_message TEXT NOT NULL, attempt INTEGER NOT NULL, response_code INTEGER, error TEXT, delivered INTEGER NOT NULL,
              at {real} NOT NULL)
            """,
            "CREATE INDEX webhook_deliveries_at ON webhook_deliveries (at)",
        ]),
        ("v5-cluster", [
            "CREATE TABLE catalog_facts (name TEXT PRIMARY KEY, value TEXT NOT NULL)",
            """
            CREATE TABLE cluster_nodes (node_id TEXT PRIMARY KEY, address TEXT NOT NULL, started_at {real} NOT NULL,
              lease_expires_at {real} NOT NULL, draining INTEGER NOT NULL DEFAULT 0)
            """,
            """
            CREATE TABLE task_claims (task_arn TEXT PRIMARY KEY, node_id TEXT, epoch INTEGER NOT NULL DEFAULT 0,
              claimed_at {real}, wanted_since {real} NOT NULL, last_node TEXT, avoid_until {real}, start_type TEXT)
            """,
            """
            CREATE TABLE task_requests (id {serial}, task_arn TEXT NOT NULL, kind TEXT NOT NULL, body TEXT NOT NULL,
              at {real} NOT NULL)
            """,
        ]),
        ("v6-load-chunks", [
            """
            CREATE TABLE load_chunks (task_arn TEXT NOT NULL, claim_epoch INTEGER NOT NULL, table_key TEXT NOT NULL, chunk INTEGER NOT NULL,
              body TEXT NOT NULL, offered_at {real} NOT NULL, node_id TEXT, taken INTEGER NOT NULL DEFAULT 0, rows_loaded BIGINT,
              error TEXT, PRIMARY KEY (task_arn, table_key, chunk))
            """,
        ]),
    ]

    /// Applies the migrations not applied yet, in one transaction. A catalog SQLite file from before this
    /// list (GRDB's `grdb_migrations`) keeps the ones it has.
    static func migrate(_ store: any CatalogStore) throws {
        let dialect = store.dialect
        try store.write { db in
            if dialect == .postgres {
                // Two servers starting at once: the second waits here, then finds the work done.
                try db.execute("SELECT pg_advisory_xact_lock(7207353696)")
            }
            try db.execute("CREATE TABLE IF NOT EXISTS catalog_migrations (name TEXT PRIMARY KEY)")
            if dialect == .sqlite, try db.exists("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'grdb_migrations'", []) {
                try db.execute("INSERT OR IGNORE INTO catalog_migrations (name) SELECT identifier FROM grdb_migrations")
                try db.execute("DROP TABLE grdb_migrations")
            }
            let applied = Set(try db.strings("SELECT name FROM catalog_migrations", []))
            for migration in all where !applied.contains(migration.name) {
                for statement in migration.sql { try db.execute(dialect.ddl(statement)) }
                try db.execute("INSERT INTO catalog_migrations (name) VALUES (?)", [migration.name])
            }
        }
    }
}
