import FerryCatalog
import FerryCore
import FerryPostgres
import Foundation
import Testing

private struct Note: Codable, Equatable {
    var name: String
    var count: Int
}

/// What the catalog promises, run against both stores: the embedded SQLite file and a shared PostgreSQL
/// database.
@Suite struct CatalogContractTests {
    @Test(arguments: StoreKind.allCases)
    func resourcesKeepTheirBodiesAndIdentifiersStayUnique(_ kind: StoreKind) throws {
        let fixture = try CatalogFixture(kind)
        defer { fixture.remove() }
        let catalog = fixture.catalog
        try catalog.insert(.endpoint, arn: "arn:a", identifier: "a", Note(name: "first", count: 1))
        try catalog.insert(.endpoint, arn: "arn:b", identifier: "b", Note(name: "second", count: 2))
        #expect(throws: CatalogError.alreadyExists("endpoint 'a' already exists")) {
            try catalog.insert(.endpoint, arn: "arn:c", identifier: "a", Note(name: "clash", count: 0))
        }
        #expect(try catalog.list(.endpoint, as: Note.self).map(\.name) == ["first", "second"])
        let changed = try catalog.modify(.endpoint, arn: "arn:a", as: Note.self) { $0.count += 10 }
        #expect(changed == Note(name: "first", count: 11))
        #expect(try catalog.modify(.task, arn: "arn:a", as: Note.self) { $0.count = 0 } == nil)
        #expect(throws: CatalogError.self) { try catalog.update(.endpoint, arn: "arn:b", identifier: "a", Note(name: "x", count: 0)) }
        try catalog.update(.endpoint, arn: "arn:b", identifier: "b2", Note(name: "renamed", count: 2))
        #expect(try catalog.get(.endpoint, arn: "arn:b", as: Note.self)?.name == "renamed")
        try catalog.setDocument("{\"a\":1}", name: "settings", for: "arn:a")
        try catalog.setDocument("{\"a\":2}", name: "settings", for: "arn:a")
        #expect(try catalog.document("settings", for: "arn:a") == "{\"a\":2}")
        try catalog.addTags([(key: "team", value: "db"), (key: "env", value: "prod")], to: "arn:a")
        try catalog.addTags([(key: "team", value: "platform")], to: "arn:a")
        #expect(try catalog.tags(of: "arn:a").map { "\($0.key)=\($0.value)" } == ["env=prod", "team=platform"])
        try catalog.delete(arn: "arn:a")
        #expect(try catalog.get(.endpoint, arn: "arn:a", as: Note.self) == nil)
        #expect(try catalog.tags(of: "arn:a").isEmpty)
        #expect(try catalog.document("settings", for: "arn:a") == nil)
    }

    @Test(arguments: StoreKind.allCases)
    func secretsAndCredentialsAreSealed(_ kind: StoreKind) throws {
        let fixture = try CatalogFixture(kind)
        defer { fixture.remove() }
        let catalog = fixture.catalog
        try catalog.setSecret("hunter2-password", name: "Password", for: "arn:e")
        #expect(try catalog.secret("Password", for: "arn:e") == "hunter2-password")
        try catalog.setSecret("changed", name: "Password", for: "arn:e")
        #expect(try catalog.secret("Password", for: "arn:e") == "changed")
        let stored = try catalog.store.read { try $0.row("SELECT sealed FROM secrets WHERE arn = ?", ["arn:e"])?.data("sealed") }
        #expect(stored.map { !String(decoding: $0, as: UTF8.self).contains("changed") } == true)
        try catalog.setSecret(nil, name: "Password", for: "arn:e")
        #expect(try catalog.secret("Password", for: "arn:e") == nil)

        try catalog.addCredential(accessKeyID: "AKIATEST", secretAccessKey: "s3cret")
        #expect(try catalog.secretAccessKey(for: "AKIATEST") == "s3cret")
        #expect(try catalog.hasCredential("AKIATEST"))
        #expect(try catalog.credentialIDs().map(\.id) == ["AKIATEST"])
        #expect(try catalog.deleteCredential("AKIATEST"))
        #expect(try !catalog.deleteCredential("AKIATEST"))
        #expect(try catalog.secretAccessKey(for: "AKIATEST") == nil)
    }

    @Test(arguments: StoreKind.allCases)
    func eventsStatisticsDeliveriesAndMetricPoints(_ kind: StoreKind) throws {
        let fixture = try CatalogFixture(kind)
        defer { fixture.remove() }
        let catalog = fixture.catalog
        let start = Date(timeIntervalSince1970: 1_800_000_000.25)
        try catalog.addEvent(EventRecord(sourceIdentifier: "t1", sourceType: "replication-task", message: "started", categories: ["state change"], date: start))
        try catalog.addEvent(EventRecord(sourceIdentifier: "t1", sourceType: "replication-task", message: "later", categories: [], date: start + 100))
        #expect(try catalog.events(from: start, to: start + 10).map(\.message) == ["started"])
        #expect(try catalog.events(from: start, to: start + 10).first?.date == start)

        try catalog.saveTableStatistics([(schema: "s", table: "a", body: Note(name: "a", count: 1))], taskArn: "arn:t")
        try catalog.saveTableStatistics([(schema: "s", table: "a", body: Note(name: "a", count: 2)), (schema: "s", table: "b", body: Note(name: "b", count: 3))], taskArn: "arn:t")
        #expect(try catalog.tableStatistics(taskArn: "arn:t", as: Note.self) == [Note(name: "a", count: 2), Note(name: "b", count: 3)])
        try catalog.saveTableStatistics([(schema: "s", table: "c", body: Note(name: "c", count: 0))], taskArn: "arn:t", replacing: true)
        #expect(try catalog.tableStatistics(taskArn: "arn:t", as: Note.self).map(\.name) == ["c"])

        for attempt in 1...3 {
            try catalog.addDelivery(DeliveryRecord(subscription: attempt == 3 ? "other" : "sub", webhook: "hook", messageID: "m1", eventMessage: "e",
                                                   attempt: attempt, responseCode: attempt == 1 ? nil : 500, error: attempt == 1 ? "refused" : nil,
                                                   delivered: attempt == 2))
        }
        let mine = try catalog.deliveries(subscription: "sub", limit: 10)
        #expect(mine.map(\.attempt) == [2, 1])
        #expect(mine.last?.error == "refused" && mine.last?.responseCode == nil && mine.first?.delivered == true)
        #expect(try catalog.deliveries(subscription: nil, limit: 2).map(\.attempt) == [3, 2])

        let dimensions = [MetricDimension(name: "ReplicationTaskIdentifier", value: "t1")]
        func point(_ offset: Double, _ sum: Double) -> StoredMetricPoint {
            StoredMetricPoint(namespace: "AWS/DMS", metric: "CDCLatencySource", dimensions: dimensions, unit: "Seconds",
                              start: start + offset, seconds: 60, sampleCount: 1, sum: sum, minimum: sum, maximum: sum)
        }
        try catalog.saveMetricPoints([point(0, 1), point(60, 2), point(120, 3)])
        try catalog.saveMetricPoints([point(60, 5)])
        let points = try catalog.metricPoints(namespace: "AWS/DMS", metric: "CDCLatencySource", dimensions: dimensions, seconds: 60, from: start, to: start + 200)
        #expect(points.map(\.sum) == [1, 5, 3])
        #expect(try catalog.metricSeries(since: start).map(\.metric) == ["CDCLatencySource"])
        try catalog.pruneMetricPoints(now: start + 200, retention: [60: 1_000], maximumPoints: 2)
        #expect(try catalog.metricPoints(namespace: "AWS/DMS", metric: "CDCLatencySource", dimensions: dimensions, seconds: 60, from: start, to: start + 200)
            .map(\.sum) == [5, 3])
    }

    @Test(arguments: StoreKind.allCases)
    func openingAgainMigratesNothingTwice(_ kind: StoreKind) throws {
        let fixture = try CatalogFixture(kind)
        defer { fixture.remove() }
        try fixture.catalog.insert(.task, arn: "arn:t", identifier: "t", Note(name: "kept", count: 1))
        let again = kind == .sqlite ? try Catalog(directory: fixture.directory) : try fixture.secondServer()
        #expect(try again.get(.task, arn: "arn:t", as: Note.self)?.name == "kept")
        let migrations = try again.store.read { try $0.strings("SELECT name FROM catalog_migrations ORDER BY name", []) }
        #expect(migrations == ["v1", "v2", "v3", "v4", "v5-cluster", "v6-load-chunks"])
    }
}

/// What only a shared catalog has to get right: several servers at once, a server with the wrong key, a
/// catalog server that restarts.
@Suite struct SharedCatalogTests {
    @Test func aServerWithAnotherSecretKeyIsRefusedWithWhatToDo() throws {
        let fixture = try CatalogFixture(.postgres)
        defer { fixture.remove() }
        #expect {
            try fixture.secondServer(copyingKey: false)
        } throws: { error in
            "\(error)".contains("every server of a cluster needs the same secret.key")
        }
        try fixture.catalog.setSecret("pw", name: "Password", for: "arn:e")
        #expect(try fixture.secondServer().secret("Password", for: "arn:e") == "pw")
    }

    @Test func twoServersChangingOneResourceLoseNoUpdate() async throws {
        let fixture = try CatalogFixture(.postgres)
        defer { fixture.remove() }
        try fixture.catalog.insert(.task, arn: "arn:t", identifier: "t", Note(name: "counter", count: 0))
        let servers = [fixture.catalog, try fixture.secondServer()]
        await withTaskGroup(of: Void.self) { group in
            for server in servers {
                group.addTask {
                    for _ in 0..<50 { _ = try? server.modify(.task, arn: "arn:t", as: Note.self) { $0.count += 1 } }
                }
            }
        }
        #expect(try fixture.catalog.get(.task, arn: "arn:t", as: Note.self)?.count == 100)
    }

    @Test func aConnectionTheServerClosedIsOpenedAgain() throws {
        let fixture = try CatalogFixture(.postgres)
        defer { fixture.remove() }
        try fixture.catalog.insert(.task, arn: "arn:t", identifier: "t", Note(name: "before", count: 0))
        let admin = try PGConnection(fixture.url!)
        let ended = try admin.query("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()")
        #expect(ended.first?.first == "1")
        #expect(try fixture.catalog.get(.task, arn: "arn:t", as: Note.self)?.name == "before")
    }
}
