@testable import FerryAPI
import FerryCatalog
import Foundation
import GRDB
import Testing

@Suite("Replication tasks")
struct TaskTests {
    static let mappings = #"{"rules":[{"rule-type":"selection","rule-id":"1","rule-name":"all","object-locator":{"schema-name":"main","table-name":"%"},"rule-action":"include"}]}"#

    /// Creates a SQLite source with two tables, the endpoints and an instance; returns their ARNs.
    static func setUp(_ api: APIClient, directory: URL, rows: Int = 500) async throws -> (source: String, target: String, instance: String, targetPath: String) {
        let sourcePath = directory.appendingPathComponent("source.db").path
        let targetPath = directory.appendingPathComponent("target.db").path
        try await DatabaseQueue(path: sourcePath).write { db in
            try db.execute(sql: "CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT); CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")
            for i in 1...rows { try db.execute(sql: "INSERT INTO items VALUES (?, ?)", arguments: [i, "item \(i)"]) }
            try db.execute(sql: "INSERT INTO notes VALUES (1, 'hello')")
        }
        let source = try await api.ok("CreateEndpoint", ["EndpointIdentifier": "src", "EndpointType": "source", "EngineName": "sqlite", "DatabaseName": sourcePath])
        let target = try await api.ok("CreateEndpoint", ["EndpointIdentifier": "dst", "EndpointType": "target", "EngineName": "sqlite", "DatabaseName": targetPath])
        let instance = try await api.ok("CreateReplicationInstance", ["ReplicationInstanceIdentifier": "worker", "ReplicationInstanceClass": "dms.t3.small"])
        return (source["Endpoint", "EndpointArn"] as! String, target["Endpoint", "EndpointArn"] as! String,
                instance["ReplicationInstance", "ReplicationInstanceArn"] as! String, targetPath)
    }

    /// Creates a task over the two SQLite endpoints and waits until it is ready; returns its ARN.
    static func createTask(_ api: APIClient, _ arns: (source: String, target: String, instance: String, targetPath: String),
                           id: String, type: String = "full-load", settings: String? = nil) async throws -> String {
        var input: [String: Any] = [
            "ReplicationTaskIdentifier": id, "SourceEndpointArn": arns.source, "TargetEndpointArn": arns.target,
            "ReplicationInstanceArn": arns.instance, "MigrationType": type, "TableMappings": mappings]
        input["ReplicationTaskSettings"] = settings
        let created = try await api.ok("CreateReplicationTask", input)
        let arn = try #require(created["ReplicationTask", "ReplicationTaskArn"] as? String)
        _ = try await waitForStatus(api, arn, "ready")
        return arn
    }

    static func waitForStatus(_ api: APIClient, _ arn: String, _ wanted: String) async throws -> [String: Any] {
        for _ in 0..<600 {
            let tasks = try await api.ok("DescribeReplicationTasks", ["Filters": [["Name": "replication-task-arn", "Values": [arn]]]])
            if let task = (tasks["ReplicationTasks"] as? [[String: Any]])?.first, task["Status"] as? String == wanted { return task }
            try await Task.sleep(for: .milliseconds(50))
        }
        Issue.record("task never reached \(wanted)")
        return [:]
    }

    @Test func fullLoadTaskRunsStopsAndReportsStatistics() async throws {
        let fixture = try APIFixture()
        defer { fixture.remove() }
        try await fixture.withClient { api in
            let arns = try await Self.setUp(api, directory: fixture.directory)
            let created = try await api.ok("CreateReplicationTask", [
                "ReplicationTaskIdentifier": "copy-all", "SourceEndpointArn": arns.source, "TargetEndpointArn": arns.target,
                "ReplicationInstanceArn": arns.instance, "MigrationType": "full-load", "TableMappings": Self.mappings,
                "ReplicationTaskSettings": #"{"FullLoadSettings": {"MaxFullLoadSubTasks": 2}}"#])
            let arn = try #require(created["ReplicationTask", "ReplicationTaskArn"] as? String)
            #expect(created["ReplicationTask", "Status"] as? String == "creating")
            let settingsText = try #require(created["ReplicationTask", "ReplicationTaskSettings"] as? String)
            let settings = try JSONSerialization.jsonObject(with: Data(settingsText.utf8)) as? [String: [String: Any]]
            #expect(settings?["FullLoadSettings"]?["TargetTablePrepMode"] as? String == "DROP_AND_CREATE")
            #expect(settings?["FullLoadSettings"]?["MaxFullLoadSubTasks"] as? Int == 2)
            _ = try await Self.waitForStatus(api, arn, "ready")

            #expect(await api.result("StartReplicationTask", ["ReplicationTaskArn": arn, "StartReplicationTaskType": "resume-processing"]).errorType == "InvalidResourceStateFault")
            let started = try await api.ok("StartReplicationTask", ["ReplicationTaskArn": arn, "StartReplicationTaskType": "start-replication"])
            #expect(started["ReplicationTask", "Status"] as? String == "starting")
            let stopped = try await Self.waitForStatus(api, arn, "stopped")
            #expect(stopped["StopReason"] as? String == "Stop Reason FULL_LOAD_ONLY_FINISHED")
            let stats = stopped["ReplicationTaskStats"] as? [String: Any]
            #expect(stats?["TablesLoaded"] as? Int == 2)
            #expect(stats?["FullLoadProgressPercent"] as? Int == 100)
            #expect(stats?["TablesErrored"] as? Int == 0)

            let tables = try await api.ok("DescribeTableStatistics", ["ReplicationTaskArn": arn])
            let byName = Dictionary(uniqueKeysWithValues: (tables["TableStatistics"] as? [[String: Any]] ?? []).map { ($0["TableName"] as! String, $0) })
            #expect(byName["items"]?["FullLoadRows"] as? Int == 500)
            #expect(byName["items"]?["TableState"] as? String == "Table completed")
            #expect(byName["notes"]?["FullLoadRows"] as? Int == 1)
            let copied = try await DatabaseQueue(path: arns.targetPath).read { try Int.fetchOne($0, sql: "SELECT count(*) FROM items") }
            #expect(copied == 500)

            let filtered = try await api.ok("DescribeTableStatistics", ["ReplicationTaskArn": arn, "Filters": [["Name": "table-name", "Values": ["notes"]]]])
            #expect((filtered["TableStatistics"] as? [Any])?.count == 1)
            let without = try await api.ok("DescribeReplicationTasks", ["WithoutSettings": true])
            #expect((without["ReplicationTasks"] as? [[String: Any]])?.first?["TableMappings"] == nil)

            #expect(await api.result("StopReplicationTask", ["ReplicationTaskArn": arn]).errorType == "InvalidResourceStateFault")
            #expect(await api.result("DeleteEndpoint", ["EndpointArn": arns.source]).errorType == "InvalidResourceStateFault")
            let events = try await api.ok("DescribeEvents", ["SourceIdentifier": "copy-all", "SourceType": "replication-task"])
            let messages = (events["Events"] as? [[String: Any]] ?? []).compactMap { $0["Message"] as? String }
            #expect(messages.contains("Replication task has started."))
            #expect(messages.contains("Replication task has stopped. Stop Reason FULL_LOAD_ONLY_FINISHED."))

            let resumed = try await api.ok("StartReplicationTask", ["ReplicationTaskArn": arn, "StartReplicationTaskType": "resume-processing"])
            #expect(resumed["ReplicationTask", "Status"] as? String == "starting")
            _ = try await Self.waitForStatus(api, arn, "stopped")
            let deleted = try await api.ok("DeleteReplicationTask", ["ReplicationTaskArn": arn])
            #expect(deleted["ReplicationTask", "Status"] as? String == "deleting")
            #expect(await api.result("DescribeReplicationTasks", ["Filters": [["Name": "replication-task-arn", "Values": [arn]]]]).errorType == "ResourceNotFoundFault")
        }
    }

    @Test func aLobLimitFromTheTaskSettingsCutsCountsAndReportsAnEvent() async throws {
        let fixture = try APIFixture()
        defer { fixture.remove() }
        try await fixture.withClient { api in
            let arns = try await Self.setUp(api, directory: fixture.directory, rows: 1)
            try await DatabaseQueue(path: fixture.directory.appendingPathComponent("source.db").path).write { db in
                try db.execute(sql: "UPDATE notes SET body = ? WHERE id = 1", arguments: [String(repeating: "n", count: 3000)])
            }
            let created = try await api.ok("CreateReplicationTask", [
                "ReplicationTaskIdentifier": "limited", "SourceEndpointArn": arns.source, "TargetEndpointArn": arns.target,
                "ReplicationInstanceArn": arns.instance, "MigrationType": "full-load", "TableMappings": Self.mappings,
                "ReplicationTaskSettings": #"{"TargetMetadata": {"LimitedSizeLobMode": true, "LobMaxSize": 1}}"#])
            let arn = try #require(created["ReplicationTask", "ReplicationTaskArn"] as? String)
            _ = try await Self.waitForStatus(api, arn, "ready")
            _ = try await api.ok("StartReplicationTask", ["ReplicationTaskArn": arn, "StartReplicationTaskType": "start-replication"])
            _ = try await Self.waitForStatus(api, arn, "stopped")
            let length = try await DatabaseQueue(path: arns.targetPath).read { try Int.fetchOne($0, sql: "SELECT length(body) FROM notes") }
            #expect(length == 1024)
            let events = try await api.ok("DescribeEvents", ["SourceIdentifier": "limited", "SourceType": "replication-task"])
            let messages = (events["Events"] as? [[String: Any]] ?? []).compactMap { $0["Message"] as? String }
            #expect(messages.contains("Warning: 1 value of main.notes.body exceeded the LOB limit of 1 KB and was cut to it (limited LOB mode)."), "\(messages)")
        }
    }

    @Test func aTaskWithoutSettingsCopiesLobsWholeAndAModifyEchoingTheDefaultsKeepsThemDefaults() async throws {
        let fixture = try APIFixture()
        defer { fixture.remove() }
        try await fixture.withClient { api in
            let arns = try await Self.setUp(api, directory: fixture.directory, rows: 1)
            try await DatabaseQueue(path: fixture.directory.appendingPathComponent("source.db").path).write { db in
                try db.execute(sql: "UPDATE notes SET body = ? WHERE id = 1", arguments: [String(repeating: "n", count: 100_000)])
            }
            let created = try await api.ok("CreateReplicationTask", [
                "ReplicationTaskIdentifier": "defaults", "SourceEndpointArn": arns.source, "TargetEndpointArn": arns.target,
                "ReplicationInstanceArn": arns.instance, "MigrationType": "full-load", "TableMappings": Self.mappings])
            let arn = try #require(created["ReplicationTask", "ReplicationTaskArn"] as? String)
            let shownText = try #require(created["ReplicationTask", "ReplicationTaskSettings"] as? String)
            var shown = try #require(try JSONSerialization.jsonObject(with: Data(shownText.utf8)) as? [String: Any])
            #expect((shown["TargetMetadata"] as? [String: Any])?["LobMaxSize"] as? Int == 32, "DMS's defaults are shown")
            func run(_ type: String) async throws -> Int? {
                _ = try await Self.waitForStatus(api, arn, type == "start-replication" ? "ready" : "stopped")
                _ = try await api.ok("StartReplicationTask", ["ReplicationTaskArn": arn, "StartReplicationTaskType": type])
                _ = try await Self.waitForStatus(api, arn, "stopped")
                return try await DatabaseQueue(path: arns.targetPath).read { try Int.fetchOne($0, sql: "SELECT length(body) FROM notes") }
            }
            #expect(try await run("start-replication") == 100_000, "DMS's 32 KB default is not the user's choice")

            // Terraform's way: read the settings back, change one key, send the whole document.
            var full = try #require(shown["FullLoadSettings"] as? [String: Any])
            full["MaxFullLoadSubTasks"] = 2
            shown["FullLoadSettings"] = full
            let echoed = String(decoding: try JSONSerialization.data(withJSONObject: shown), as: UTF8.self)
            _ = try await api.ok("ModifyReplicationTask", ["ReplicationTaskArn": arn, "ReplicationTaskSettings": echoed])
            #expect(try fixture.catalog.document(DMSService.userSettingsDocument, for: arn) == #"{"FullLoadSettings":{"MaxFullLoadSubTasks":2}}"#)
            #expect(try await run("reload-target") == 100_000)
            let described = try await api.ok("DescribeReplicationTasks", ["Filters": [["Name": "replication-task-arn", "Values": [arn]]]])
            let describedText = try #require((described["ReplicationTasks"] as? [[String: Any]])?.first?["ReplicationTaskSettings"] as? String)
            #expect(describedText.contains(#""LobMaxSize":32"#) && describedText.contains(#""MaxFullLoadSubTasks":2"#))

            _ = try await api.ok("ModifyReplicationTask", ["ReplicationTaskArn": arn, "ReplicationTaskSettings": #"{"TargetMetadata": {"LobMaxSize": 1}}"#])
            #expect(try await run("reload-target") == 1024, "a limit the user sets is DMS's behaviour")
        }
    }

    @Test func createRefusesBadMappingsSettingsAndCDC() async throws {
        let fixture = try APIFixture()
        defer { fixture.remove() }
        try await fixture.withClient { api in
            let arns = try await Self.setUp(api, directory: fixture.directory, rows: 1)
            var input: [String: Any] = ["ReplicationTaskIdentifier": "t", "SourceEndpointArn": arns.source, "TargetEndpointArn": arns.target,
                                        "ReplicationInstanceArn": arns.instance, "MigrationType": "full-load", "TableMappings": Self.mappings]
            input["TableMappings"] = #"{"rules":[{"rule-type":"selection","rule-id":"5","object-locator":{"schema-name":"main","table-name":"%"},"rule-action":"grab"}]}"#
            let badMapping = try await api.call("CreateReplicationTask", input)
            #expect(badMapping.errorType == "InvalidParameterValueException")
            #expect(badMapping.message.contains("rule '5'.rule-action"))
            input["TableMappings"] = Self.mappings
            input["ReplicationTaskSettings"] = #"{"FullLoadSettings": {"MaxFullLoadSubTasks": "many"}}"#
            #expect(await api.result("CreateReplicationTask", input).message.contains("FullLoadSettings.MaxFullLoadSubTasks: expected an integer"))
            input["ReplicationTaskSettings"] = #"{"Colours": {}}"#
            #expect(await api.result("CreateReplicationTask", input).message.contains("unknown section 'Colours'"))
            input["ReplicationTaskSettings"] = #"{"FullLoadSettings": {"TargetTablePrepMode": "TRUNCATE_BEFORE_LOAD", "TransactionConsistencyTimeout": 600}, "Logging": {"EnableLogging": true}}"#
            input["ReplicationTaskIdentifier"] = "with-settings"
            _ = try await api.ok("CreateReplicationTask", input)
            let events = try await api.ok("DescribeEvents", ["SourceIdentifier": "with-settings"])
            let messages = (events["Events"] as? [[String: Any]] ?? []).compactMap { $0["Message"] as? String }
            #expect(messages.contains("ReplicationTaskSettings sets FullLoadSettings.TransactionConsistencyTimeout, Logging.EnableLogging, which Ferry accepts but does not honour yet (docs/task-settings.md)."))
            input["ReplicationTaskIdentifier"] = "t"
            input["ReplicationTaskSettings"] = nil
            input["MigrationType"] = "continuous"
            #expect(await api.result("CreateReplicationTask", input).message.contains("MigrationType must be one of full-load, cdc, full-load-and-cdc"))
            input["MigrationType"] = "full-load"
            input["CdcStopPosition"] = "commit_time:2018-02-09T12:12:12"
            #expect(await api.result("CreateReplicationTask", input).message.contains("CdcStopPosition applies to MigrationType cdc and full-load-and-cdc"))
            input["CdcStopPosition"] = "at noon"
            #expect(await api.result("CreateReplicationTask", input).message.contains("CdcStopPosition: expected server_time:"))
            input["CdcStopPosition"] = nil
            input["CdcStartPosition"] = "0/16B3748"
            input["CdcStartTime"] = 1_704_164_645
            #expect(await api.result("CreateReplicationTask", input).message.contains("either CdcStartTime or CdcStartPosition"))
            input["CdcStartTime"] = nil
            #expect(await api.result("CreateReplicationTask", input).message.contains("apply to MigrationType cdc"))
            input["CdcStartPosition"] = nil
            input["SourceEndpointArn"] = arns.target
            #expect(await api.result("CreateReplicationTask", input).message.contains("is a target endpoint"))
        }
    }

    @Test func aTaskRunningWhenTheServerDiedResumesByItselfAndOneStoppingEndsStopped() async throws {
        let fixture = try APIFixture()
        defer { fixture.remove() }
        try await fixture.withClient { api in
            let endpoints = try await Self.setUp(api, directory: fixture.directory, rows: 2000)
            for name in ["was-running", "was-stopping"] {
                let arn = try await Self.createTask(api, endpoints, id: name)
                if name == "was-running" {
                    _ = try await api.ok("StartReplicationTask", ["ReplicationTaskArn": arn, "StartReplicationTaskType": "start-replication"])
                    _ = try await Self.waitForStatus(api, arn, "stopped")
                }
            }
        }
        let arns = try fixture.catalog.list(.task, as: ReplicationTask.self).map { $0.ReplicationTaskArn! }
        // What a kill -9 mid-load leaves: the task running, a table loading, the target's copy of it partial.
        _ = try fixture.catalog.modify(.task, arn: arns[0], as: ReplicationTask.self) { $0.Status = "running"; $0.StopReason = nil }
        var items = try #require(try fixture.catalog.tableStatistics(taskArn: arns[0], as: TableStatistics.self).first { $0.TableName == "items" })
        items.TableState = "Full load"
        try fixture.catalog.saveTableStatistics([(schema: "main", table: "items", body: items)], taskArn: arns[0])
        let targetPath = fixture.directory.appendingPathComponent("target.db").path
        try await DatabaseQueue(path: targetPath).write {
            try $0.execute(sql: "DELETE FROM items WHERE id > 700")
            try $0.execute(sql: "UPDATE ferry_load_progress SET detail = replace(detail, '\"finished\":true', '\"finished\":false') WHERE table_name = 'main.items'")
        }
        _ = try fixture.catalog.modify(.task, arn: arns[1], as: ReplicationTask.self) { $0.Status = "stopping" }

        let restarted = DMSService(catalog: try Catalog(directory: fixture.directory), accountID: "123456789012")
        try await restarted.recover()
        for _ in 0..<600 where try fixture.catalog.get(.task, arn: arns[0], as: ReplicationTask.self)?.Status != "stopped" {
            try await Task.sleep(for: .milliseconds(50))
        }
        let resumed = try #require(try fixture.catalog.get(.task, arn: arns[0], as: ReplicationTask.self))
        #expect(resumed.Status == "stopped" && resumed.StopReason == "Stop Reason FULL_LOAD_ONLY_FINISHED", "\(resumed)")
        #expect(try await DatabaseQueue(path: targetPath).read { try Int.fetchOne($0, sql: "SELECT count(*) FROM items") } == 2000)
        let messages = try fixture.catalog.events(from: .distantPast, to: .distantFuture).map(\.message)
        #expect(messages.contains("Ferry stopped while the task was running; it resumes by itself from where it stopped (resume-processing)."))
        let stopping = try #require(try fixture.catalog.get(.task, arn: arns[1], as: ReplicationTask.self))
        #expect(stopping.Status == "stopped" && stopping.StopReason == "Stop Reason NORMAL")
    }

    @Test func aStreamResumedAfterAKillThatCameBetweenTheLoadsEndAndItsStatisticsRecordsTheLoadFinished() async throws {
        let fixture = try APIFixture()
        defer { fixture.remove() }
        try await fixture.withClient { api in
            let arns = try await Self.setUp(api, directory: fixture.directory, rows: 100)
            let arn = try await Self.createTask(api, arns, id: "streaming", type: "full-load-and-cdc")
            _ = try await api.ok("StartReplicationTask", ["ReplicationTaskArn": arn, "StartReplicationTaskType": "start-replication"])
            for _ in 0..<600 {
                let tables = try await api.ok("DescribeTableStatistics", ["ReplicationTaskArn": arn])["TableStatistics"] as? [[String: Any]] ?? []
                if tables.count == 2, tables.allSatisfy({ $0["TableState"] as? String == "Table completed" }) { break }
                try await Task.sleep(for: .milliseconds(50))
            }
            _ = try await api.ok("StopReplicationTask", ["ReplicationTaskArn": arn])
            _ = try await Self.waitForStatus(api, arn, "stopped")
        }
        let arn = try #require(try fixture.catalog.list(.task, as: ReplicationTask.self).first?.ReplicationTaskArn)
        // The load had ended and the stream's start was on the target, but the statistics still said loading.
        _ = try fixture.catalog.modify(.task, arn: arn, as: ReplicationTask.self) { $0.Status = "running" }
        let loading = try fixture.catalog.tableStatistics(taskArn: arn, as: TableStatistics.self).map { stats in
            var stats = stats
            stats.TableState = "Full load"
            return (schema: stats.SchemaName ?? "", table: stats.TableName ?? "", body: stats)
        }
        try fixture.catalog.saveTableStatistics(loading, taskArn: arn)
        let restarted = DMSService(catalog: try Catalog(directory: fixture.directory), accountID: "123456789012")
        try await restarted.recover()
        var states: [String] = []
        for _ in 0..<200 {
            states = try fixture.catalog.tableStatistics(taskArn: arn, as: TableStatistics.self).compactMap(\.TableState)
            if states.allSatisfy({ $0 == "Table completed" }) { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        let task = try fixture.catalog.get(.task, arn: arn, as: ReplicationTask.self)
        let events = try fixture.catalog.events(from: .distantPast, to: .distantFuture).map(\.message)
        #expect(states == ["Table completed", "Table completed"], "\(task?.Status ?? "") \(task?.LastFailureMessage ?? "") \(events)")
        await restarted.shutdown()
    }

    @Test func aTaskThatCannotResumeAfterARestartIsMarkedFailedWithTheReason() async throws {
        let fixture = try APIFixture()
        defer { fixture.remove() }
        let arn = "arn:aws:dms:us-east-1:123456789012:task:CRASHED"
        try fixture.catalog.insert(.task, arn: arn, identifier: "crashed", ReplicationTask(ReplicationTaskIdentifier: "crashed", Status: "running", ReplicationTaskArn: arn))
        let restarted = DMSService(catalog: try Catalog(directory: fixture.directory), accountID: "123456789012")
        try await restarted.recover()
        let task = try #require(try fixture.catalog.get(.task, arn: arn, as: ReplicationTask.self))
        #expect(task.Status == "failed")
        #expect(task.LastFailureMessage?.contains("Ferry stopped while the task was running, and it cannot resume: ") == true)
    }
}

@Suite("Task changes while running")
struct TaskChangeTests {
    @Test func modifyReloadAndTagsFollowTheTaskState() async throws {
        let fixture = try APIFixture()
        defer { fixture.remove() }
        try await fixture.withClient { api in
            let arns = try await TaskTests.setUp(api, directory: fixture.directory, rows: 300_000)
            let created = try await api.ok("CreateReplicationTask", [
                "ReplicationTaskIdentifier": "long", "SourceEndpointArn": arns.source, "TargetEndpointArn": arns.target,
                "ReplicationInstanceArn": arns.instance, "MigrationType": "full-load", "TableMappings": TaskTests.mappings])
            let arn = try #require(created["ReplicationTask", "ReplicationTaskArn"] as? String)
            #expect(await api.result("ReloadTables", ["ReplicationTaskArn": arn, "TablesToReload": [["SchemaName": "main", "TableName": "notes"]]]).errorType == "InvalidResourceStateFault")

            let renamed = try await api.ok("ModifyReplicationTask", ["ReplicationTaskArn": arn, "ReplicationTaskIdentifier": "long-copy"])
            #expect(renamed["ReplicationTask", "ReplicationTaskIdentifier"] as? String == "long-copy")
            _ = try await api.ok("AddTagsToResource", ["ResourceArn": arn, "Tags": [["Key": "env", "Value": "test"], ["Key": "owner", "Value": "dba"]]])
            _ = try await api.ok("RemoveTagsFromResource", ["ResourceArn": arn, "TagKeys": ["owner"]])
            let tags = try await api.ok("ListTagsForResource", ["ResourceArn": arn])
            #expect((tags["TagList"] as? [[String: Any]])?.compactMap { $0["Key"] as? String } == ["env"])
            #expect(await api.result("AddTagsToResource", ["ResourceArn": "arn:aws:dms:us-east-1:1:task:NOPE", "Tags": []]).errorType == "ResourceNotFoundFault")

            _ = try await api.ok("StartReplicationTask", ["ReplicationTaskArn": arn, "StartReplicationTaskType": "start-replication"])
            let whileRunning = await api.result("ModifyReplicationTask", ["ReplicationTaskArn": arn, "ReplicationTaskIdentifier": "other"])
            #expect(whileRunning.errorType == "InvalidResourceStateFault")
            #expect(whileRunning.message.hasPrefix("Replication Task, excluding logging severity task settings, cannot be modified while it is"))
            #expect(await api.result("DeleteReplicationTask", ["ReplicationTaskArn": arn]).errorType == "InvalidResourceStateFault")
            let unknown = await api.result("ReloadTables", ["ReplicationTaskArn": arn, "TablesToReload": [["SchemaName": "other", "TableName": "notes"]]])
            #expect(unknown.errorType == "InvalidParameterValueException" && unknown.message == "TablesToReload: other.notes is not selected by the task's table mappings.", "\(unknown.raw)")
            _ = try await api.ok("ReloadTables", ["ReplicationTaskArn": arn, "TablesToReload": [["SchemaName": "main", "TableName": "notes"]]])
            _ = try await TaskTests.waitForStatus(api, arn, "stopped")
            let stats = try await api.ok("DescribeTableStatistics", ["ReplicationTaskArn": arn])
            let byName = Dictionary(uniqueKeysWithValues: (stats["TableStatistics"] as? [[String: Any]] ?? []).map { ($0["TableName"] as! String, $0) })
            #expect(byName["notes"]?["FullLoadReloaded"] as? Bool == true)
            #expect(byName["notes"]?["TableState"] as? String == "Table completed")
            #expect(byName["items"]?["FullLoadReloaded"] as? Bool == false)
            #expect(byName["items"]?["FullLoadRows"] as? Int == 300_000)
        }
    }
}
