@testable import FerryAPI
import FerryCatalog
import Foundation
import Testing

@Suite("Endpoints, connections and replication instances")
struct EndpointAndInstanceTests {
    static func postgresEndpoint(_ id: String, type: String = "source", password: String = "s3cret-Passw0rd") -> [String: Any] {
        ["EndpointIdentifier": id, "EndpointType": type, "EngineName": "postgres", "ServerName": "db.internal",
         "Port": 5432, "DatabaseName": "shop", "Username": "app", "Password": password,
         "Tags": [["Key": "team", "Value": "data"]]]
    }

    @Test func endpointLifecycleNeverReturnsOrStoresThePasswordInClear() async throws {
        let fixture = try APIFixture()
        defer { fixture.remove() }
        try await fixture.withClient { api in
            let created = try await api.ok("CreateEndpoint", Self.postgresEndpoint("orders-src"))
            let arn = try #require(created["Endpoint", "EndpointArn"] as? String)
            #expect(arn.hasPrefix("arn:aws:dms:us-east-1:123456789012:endpoint:"))
            #expect(created["Endpoint", "EndpointType"] as? String == "SOURCE")
            #expect(created["Endpoint", "Status"] as? String == "active")
            #expect(!created.raw.contains("s3cret-Passw0rd"))
            #expect(created["Endpoint", "Password"] == nil)

            let duplicate = try await api.call("CreateEndpoint", Self.postgresEndpoint("orders-src"))
            #expect(duplicate.errorType == "ResourceAlreadyExistsFault")

            let described = try await api.ok("DescribeEndpoints", ["Filters": [["Name": "endpoint-id", "Values": ["orders-src"]]]])
            #expect((described["Endpoints"] as? [[String: Any]])?.count == 1)
            #expect(!described.raw.contains("s3cret-Passw0rd"))
            let none = try await api.call("DescribeEndpoints", ["Filters": [["Name": "engine-name", "Values": ["mysql"]]]])
            #expect(none.errorType == "ResourceNotFoundFault")

            let modified = try await api.ok("ModifyEndpoint", ["EndpointArn": arn, "Port": 6432, "Password": "n3w-Passw0rd"])
            #expect(modified["Endpoint", "Port"] as? Int == 6432)
            #expect(modified["Endpoint", "ServerName"] as? String == "db.internal")

            let tags = try await api.ok("ListTagsForResource", ["ResourceArn": arn])
            #expect((tags["TagList"] as? [[String: Any]])?.first?["Value"] as? String == "data")

            let deleted = try await api.ok("DeleteEndpoint", ["EndpointArn": arn])
            #expect(deleted["Endpoint", "Status"] as? String == "deleting")
            let gone = try await api.call("DescribeEndpoints", ["Filters": [["Name": "endpoint-arn", "Values": [arn]]]])
            #expect(gone.errorType == "ResourceNotFoundFault")
        }
        let stored = try Data(contentsOf: fixture.directory.appendingPathComponent("catalog.db"))
        #expect(stored.range(of: Data("s3cret-Passw0rd".utf8)) == nil)
        #expect(stored.range(of: Data("n3w-Passw0rd".utf8)) == nil)
        let attributes = try FileManager.default.attributesOfItem(atPath: fixture.directory.appendingPathComponent("secret.key").path)
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
    }

    @Test func invalidEndpointsNameTheField() async throws {
        let fixture = try APIFixture()
        defer { fixture.remove() }
        try await fixture.withClient { api in
            var bad = Self.postgresEndpoint("x")
            bad["EngineName"] = "oracle"
            #expect(await api.result("CreateEndpoint", bad).message.contains("EngineName 'oracle' is not supported"))
            bad = Self.postgresEndpoint("9lives")
            #expect(await api.result("CreateEndpoint", bad).message.contains("EndpointIdentifier must begin with a letter"))
            // As in DMS, a server endpoint may be made without its server's name; it is needed to connect.
            var later = Self.postgresEndpoint("no-server")
            later["ServerName"] = nil
            let noServer = try await api.ok("CreateEndpoint", later)
            let instance = try await api.ok("CreateReplicationInstance", ["ReplicationInstanceIdentifier": "tester", "ReplicationInstanceClass": "dms.t3.micro"])
            _ = try await api.ok("TestConnection", ["ReplicationInstanceArn": try #require(instance["ReplicationInstance", "ReplicationInstanceArn"] as? String),
                                                    "EndpointArn": try #require(noServer["Endpoint", "EndpointArn"] as? String)])
            var failure: [String: Any]?
            for _ in 0..<100 where failure == nil {
                let connections = try await api.ok("DescribeConnections")["Connections"] as? [[String: Any]] ?? []
                failure = connections.first { $0["EndpointIdentifier"] as? String == "no-server" && $0["Status"] as? String == "failed" }
                try await Task.sleep(for: .milliseconds(50))
            }
            #expect(failure?["LastFailureMessage"] as? String == "Endpoint no-server has no ServerName: a postgres endpoint needs one to connect (ModifyEndpoint sets it).")
            bad = Self.postgresEndpoint("bad-ssl")
            bad["SslMode"] = "maybe"
            #expect(await api.result("CreateEndpoint", bad).errorType == "InvalidParameterValueException")
            let maria: [String: Any] = ["EndpointIdentifier": "maria", "EndpointType": "target", "EngineName": "mariadb", "ServerName": "db.internal"]
            var one = maria
            one["MySQLSettings"] = ["TargetDbType": "one-database"]
            #expect(await api.result("CreateEndpoint", one).message == "MySQLSettings.TargetDbType 'one-database' is not one of multiple-databases, specific-database.")
            one["MySQLSettings"] = ["TargetDbType": "specific-database"]
            #expect(await api.result("CreateEndpoint", one).message == "MySQLSettings.TargetDbType specific-database needs DatabaseName: every table goes into that database.")
            one["DatabaseName"] = "shop"
            let created = try await api.ok("CreateEndpoint", one)
            #expect(created["Endpoint", "MySQLSettings", "TargetDbType"] as? String == "specific-database")
            let url = try EndpointModel.url(for: try #require(try fixture.catalog.list(.endpoint, as: Endpoint.self).first { $0.EndpointIdentifier == "maria" }),
                                            password: nil, rootCertificate: nil)
            #expect(url.parameters["target_db_type"] == "specific-database" && url.database == "shop")
        }
    }

    @Test func pagingWithMarkers() async throws {
        let fixture = try APIFixture()
        defer { fixture.remove() }
        try await fixture.withClient { api in
            for i in 0..<25 { _ = try await api.ok("CreateEndpoint", Self.postgresEndpoint("ep-\(i)")) }
            let first = try await api.ok("DescribeEndpoints", ["MaxRecords": 20])
            #expect((first["Endpoints"] as? [Any])?.count == 20)
            let marker = try #require(first["Marker"] as? String)
            let second = try await api.ok("DescribeEndpoints", ["MaxRecords": 20, "Marker": marker])
            #expect((second["Endpoints"] as? [Any])?.count == 5)
            #expect(second["Marker"] == nil)
            #expect(await api.result("DescribeEndpoints", ["MaxRecords": 5]).errorType == "InvalidParameterValueException")
        }
    }

    @Test func instancesAndConnectionTests() async throws {
        let fixture = try APIFixture()
        defer { fixture.remove() }
        let sqlitePath = fixture.directory.appendingPathComponent("exists.db").path
        _ = FileManager.default.createFile(atPath: sqlitePath, contents: Data())
        try await fixture.withClient { api in
            let created = try await api.ok("CreateReplicationInstance", ["ReplicationInstanceIdentifier": "Worker-1", "ReplicationInstanceClass": "dms.t3.medium"])
            #expect(created["ReplicationInstance", "ReplicationInstanceIdentifier"] as? String == "worker-1")
            let instanceArn = try #require(created["ReplicationInstance", "ReplicationInstanceArn"] as? String)
            let described = try await api.ok("DescribeReplicationInstances", ["Filters": [["Name": "replication-instance-id", "Values": ["worker-1"]]]])
            #expect((described["ReplicationInstances"] as? [[String: Any]])?.first?["ReplicationInstanceStatus"] as? String == "available")
            #expect(await api.result("CreateReplicationInstance", ["ReplicationInstanceIdentifier": "w2", "ReplicationInstanceClass": "huge"]).errorType == "InvalidParameterValueException")
            let modified = try await api.ok("ModifyReplicationInstance", ["ReplicationInstanceArn": instanceArn, "ReplicationInstanceClass": "dms.c5.xlarge"])
            #expect(modified["ReplicationInstance", "ReplicationInstanceClass"] as? String == "dms.c5.xlarge")

            let good = try await api.ok("CreateEndpoint", ["EndpointIdentifier": "file", "EndpointType": "source", "EngineName": "sqlite", "DatabaseName": sqlitePath])
            let bad = try await api.ok("CreateEndpoint", ["EndpointIdentifier": "nofile", "EndpointType": "source", "EngineName": "sqlite", "DatabaseName": "/nonexistent/x.db"])
            for endpoint in [good, bad] {
                let test = try await api.ok("TestConnection", ["ReplicationInstanceArn": instanceArn, "EndpointArn": endpoint["Endpoint", "EndpointArn"] as! String])
                #expect(test["Connection", "Status"] as? String == "testing")
            }
            var connections: [[String: Any]] = []
            for _ in 0..<100 {
                connections = try await api.ok("DescribeConnections", ["Filters": [["Name": "replication-instance-arn", "Values": [instanceArn]]]])["Connections"] as? [[String: Any]] ?? []
                if connections.allSatisfy({ $0["Status"] as? String != "testing" }) { break }
                try await Task.sleep(for: .milliseconds(50))
            }
            let byEndpoint = Dictionary(uniqueKeysWithValues: connections.map { ($0["EndpointIdentifier"] as! String, $0) })
            #expect(byEndpoint["file"]?["Status"] as? String == "successful")
            #expect(byEndpoint["nofile"]?["Status"] as? String == "failed")
            #expect((byEndpoint["nofile"]?["LastFailureMessage"] as? String)?.contains("/nonexistent/x.db") == true)

            let deleted = try await api.ok("DeleteReplicationInstance", ["ReplicationInstanceArn": instanceArn])
            #expect(deleted["ReplicationInstance", "ReplicationInstanceStatus"] as? String == "deleting")
            let types = try await api.ok("DescribeEndpointTypes", ["Filters": [["Name": "engine-name", "Values": ["sqlite"]]]])
            #expect((types["SupportedEndpointTypes"] as? [Any])?.count == 2)
        }
    }
}
