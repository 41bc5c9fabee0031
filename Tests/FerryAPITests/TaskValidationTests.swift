@testable import FerryAPI
import Foundation
import GRDB
import Testing

@Suite("Validation in replication tasks")
struct TaskValidationTests {
    static func statistics(_ api: APIClient, _ arn: String) async throws -> [String: [String: Any]] {
        let tables = try await api.ok("DescribeTableStatistics", ["ReplicationTaskArn": arn])
        return Dictionary(uniqueKeysWithValues: (tables["TableStatistics"] as? [[String: Any]] ?? []).map { ($0["TableName"] as! String, $0) })
    }

    @Test func aFullLoadWithValidationReportsEveryTableValidated() async throws {
        let fixture = try APIFixture()
        defer { fixture.remove() }
        try await fixture.withClient { api in
            let arns = try await TaskTests.setUp(api, directory: fixture.directory)
            let arn = try await TaskTests.createTask(api, arns, id: "copy-and-check", settings: #"{"ValidationSettings": {"EnableValidation": true, "ThreadCount": 2}}"#)
            _ = try await api.ok("StartReplicationTask", ["ReplicationTaskArn": arn, "StartReplicationTaskType": "start-replication"])
            let stopped = try await TaskTests.waitForStatus(api, arn, "stopped")
            #expect(stopped["StopReason"] as? String == "Stop Reason FULL_LOAD_ONLY_FINISHED")
            let stats = try await Self.statistics(api, arn)
            #expect(stats["items"]?["ValidationState"] as? String == "Validated")
            #expect(stats["items"]?["ValidationFailedRecords"] as? Int == 0)
            #expect(stats["notes"]?["ValidationState"] as? String == "Validated")
            let events = try await api.ok("DescribeEvents", ["SourceIdentifier": "copy-and-check", "SourceType": "replication-task"])
            let messages = (events["Events"] as? [[String: Any]] ?? []).compactMap { $0["Message"] as? String }
            #expect(messages.contains("Validation has finished: 2 of 2 tables match."))
        }
    }

    @Test func aValidationOnlyTaskRecordsMismatchesInTheFailuresTable() async throws {
        let fixture = try APIFixture()
        defer { fixture.remove() }
        try await fixture.withClient { api in
            let arns = try await TaskTests.setUp(api, directory: fixture.directory, rows: 50)
            try await DatabaseQueue(path: arns.targetPath).write { db in
                try db.execute(sql: "ATTACH DATABASE ? AS src", arguments: [fixture.directory.appendingPathComponent("source.db").path])
                try db.execute(sql: """
                    CREATE TABLE items AS SELECT * FROM src.items; CREATE TABLE notes AS SELECT * FROM src.notes;
                    UPDATE items SET name = 'changed' WHERE id = 7; DELETE FROM items WHERE id = 9 OR id BETWEEN 20 AND 29
                    """)
            }
            let settings = #"{"FullLoadSettings": {"TargetTablePrepMode": "DO_NOTHING"}, "ValidationSettings": {"EnableValidation": true, "ValidationOnly": true}}"#
            let arn = try await TaskTests.createTask(api, arns, id: "check-only", settings: settings)
            _ = try await api.ok("StartReplicationTask", ["ReplicationTaskArn": arn, "StartReplicationTaskType": "start-replication"])
            _ = try await TaskTests.waitForStatus(api, arn, "stopped")
            let stats = try await Self.statistics(api, arn)
            #expect(stats["items"]?["ValidationState"] as? String == "Mismatched records")
            #expect(stats["items"]?["ValidationFailedRecords"] as? Int == 12, "every row, a run of ten included")
            #expect(stats["notes"]?["ValidationState"] as? String == "Validated")
            #expect(stats["items"]?["FullLoadRows"] == nil)

            let failures = try DatabaseQueue(path: arns.targetPath).read { db in
                try Row.fetchAll(db, sql: "SELECT TASK_NAME, TABLE_NAME, KEY_TYPE, KEY, FAILURE_TYPE, DETAILS FROM awsdms_validation_failures_v1 ORDER BY KEY")
            }
            #expect(failures.count == 3)
            #expect(failures.map { $0["KEY"] as String } == [#"{"key":["20"]}"#, #"{"key":["7"]}"#, #"{"key":["9"]}"#])
            #expect(failures.map { $0["FAILURE_TYPE"] as String } == ["MISSING_TARGET", "RECORD_DIFF", "MISSING_TARGET"])
            #expect(failures.first?["DETAILS"] as String? == "[{'last key': ['29'], 'rows': 10}]", "a run is one row, ending in DETAILS")
            #expect(failures[1]["DETAILS"] as String? == "[[{'name': 'item 7'}, {'name': 'changed'}],]")
            #expect(failures.allSatisfy { $0["TASK_NAME"] as String == "check-only" && $0["KEY_TYPE"] as String == "Row" })
        }
    }

    @Test func validationSettingsAreCheckedByPathAndType() async throws {
        let fixture = try APIFixture()
        defer { fixture.remove() }
        try await fixture.withClient { api in
            let arns = try await TaskTests.setUp(api, directory: fixture.directory, rows: 1)
            func create(_ settings: String) async -> APIResult {
                await api.result("CreateReplicationTask", [
                    "ReplicationTaskIdentifier": "bad", "SourceEndpointArn": arns.source, "TargetEndpointArn": arns.target,
                    "ReplicationInstanceArn": arns.instance, "MigrationType": "full-load", "TableMappings": TaskTests.mappings,
                    "ReplicationTaskSettings": settings])
            }
            let notBoolean = await create(#"{"ValidationSettings": {"EnableValidation": "yes"}}"#)
            #expect(notBoolean.errorType == "InvalidParameterValueException")
            #expect(notBoolean.message.contains("ValidationSettings.EnableValidation: expected boolean"))
            let badThreads = await create(#"{"ValidationSettings": {"ThreadCount": 0}}"#)
            #expect(badThreads.message.contains("ValidationSettings.ThreadCount: expected an integer from 1 to 64"))
            let onlyWithDrop = await create(#"{"ValidationSettings": {"ValidationOnly": true}}"#)
            #expect(onlyWithDrop.errorType == "InvalidParameterValueException")
            #expect(onlyWithDrop.message.contains("ValidationOnly needs FullLoadSettings.TargetTablePrepMode DO_NOTHING"))
        }
    }
}
