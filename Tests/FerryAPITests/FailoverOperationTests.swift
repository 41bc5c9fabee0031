@testable import FerryAPI
import Foundation
import Testing

@Suite("RebootReplicationInstance and MoveReplicationTask")
struct FailoverOperationTests {
    @Test func aRebootRestartsTheInstancesTasksAndAFailoverNeedsAnotherNode() async throws {
        let fixture = try APIFixture()
        defer { fixture.remove() }
        try await fixture.service.recover()
        try await fixture.withClient { api in
            let arns = try await TaskTests.setUp(api, directory: fixture.directory)
            let arn = try await TaskTests.createTask(api, arns, id: "streaming", type: "full-load-and-cdc")
            _ = try await api.ok("StartReplicationTask", ["ReplicationTaskArn": arn, "StartReplicationTaskType": "start-replication"])
            _ = try await TaskTests.waitForStatus(api, arn, "running")

            let lonely = await api.result("RebootReplicationInstance", ["ReplicationInstanceArn": arns.instance, "ForceFailover": true])
            #expect(lonely.errorType == "InvalidParameterCombinationException")
            #expect(lonely.message.contains("only live one"), "\(lonely.message)")
            let both = await api.result("RebootReplicationInstance", ["ReplicationInstanceArn": arns.instance, "ForceFailover": true, "ForcePlannedFailover": true])
            #expect(both.errorType == "InvalidParameterCombinationException")

            let rebooted = try await api.ok("RebootReplicationInstance", ["ReplicationInstanceArn": arns.instance])
            #expect(rebooted["ReplicationInstance", "ReplicationInstanceStatus"] as? String == "rebooting")
            #expect(!(await fixture.service.supervisor.isActive(arn)), "the reboot ended the task's run")
            await fixture.service.clusterRound()
            #expect(await fixture.service.supervisor.isActive(arn), "the next round resumes it")
            let events = try await api.ok("DescribeEvents", ["Duration": 60])
            let messages = (events["Events"] as? [[String: Any]] ?? []).compactMap { $0["Message"] as? String }
            #expect(messages.contains { $0.hasPrefix("Replication instance is rebooting: its 1 running task(s) restart") }, "\(messages)")
            _ = try await api.ok("StopReplicationTask", ["ReplicationTaskArn": arn])
            _ = try await TaskTests.waitForStatus(api, arn, "stopped")
        }
    }

    @Test func aStoppedTaskMovesToAnotherInstance() async throws {
        let fixture = try APIFixture()
        defer { fixture.remove() }
        try await fixture.withClient { api in
            let arns = try await TaskTests.setUp(api, directory: fixture.directory)
            let arn = try await TaskTests.createTask(api, arns, id: "mover")
            let other = try await api.ok("CreateReplicationInstance", ["ReplicationInstanceIdentifier": "bigger", "ReplicationInstanceClass": "dms.c5.xlarge"])
            let otherArn = try #require(other["ReplicationInstance", "ReplicationInstanceArn"] as? String)
            let same = await api.result("MoveReplicationTask", ["ReplicationTaskArn": arn, "TargetReplicationInstanceArn": arns.instance])
            #expect(same.errorType == "InvalidParameterValueException" && same.message.contains("TargetReplicationInstanceArn"))
            let nowhere = await api.result("MoveReplicationTask", ["ReplicationTaskArn": arn, "TargetReplicationInstanceArn": otherArn + "x"])
            #expect(nowhere.errorType == "ResourceNotFoundFault")
            let moved = try await api.ok("MoveReplicationTask", ["ReplicationTaskArn": arn, "TargetReplicationInstanceArn": otherArn])
            #expect(moved["ReplicationTask", "Status"] as? String == "moving")
            let task = try await TaskTests.waitForStatus(api, arn, "ready")
            #expect(task["ReplicationInstanceArn"] as? String == otherArn)

            let streaming = try await TaskTests.createTask(api, arns, id: "streamer", type: "full-load-and-cdc")
            _ = try await api.ok("StartReplicationTask", ["ReplicationTaskArn": streaming, "StartReplicationTaskType": "start-replication"])
            _ = try await TaskTests.waitForStatus(api, streaming, "running")
            let busy = await api.result("MoveReplicationTask", ["ReplicationTaskArn": streaming, "TargetReplicationInstanceArn": otherArn])
            #expect(busy.errorType == "InvalidResourceStateFault" && busy.message.contains("stop it before moving it"), "\(busy.raw)")
            _ = try await api.ok("StopReplicationTask", ["ReplicationTaskArn": streaming])
            _ = try await TaskTests.waitForStatus(api, streaming, "stopped")
        }
    }

    @Test func aStartBeyondThisNodesShareWaitsForAnotherNodeAndStartsAsAsked() async throws {
        let fixture = try APIFixture()
        defer { fixture.remove() }
        try await fixture.service.recover()
        let registry = fixture.service.registry
        try registry.renew(node: "other", address: "http://other")
        try await fixture.withClient { api in
            let arns = try await TaskTests.setUp(api, directory: fixture.directory)
            let first = try await TaskTests.createTask(api, arns, id: "first", type: "full-load-and-cdc")
            let second = try await TaskTests.createTask(api, arns, id: "second", type: "full-load-and-cdc")
            _ = try await api.ok("StartReplicationTask", ["ReplicationTaskArn": first, "StartReplicationTaskType": "start-replication"])
            _ = try await api.ok("StartReplicationTask", ["ReplicationTaskArn": second, "StartReplicationTaskType": "start-replication"])
            #expect(await fixture.service.supervisor.isActive(first), "the first task is within this node's share")
            #expect(!(await fixture.service.supervisor.isActive(second)), "the second is left for the other node")
            _ = try await TaskTests.waitForStatus(api, second, "starting")

            // The other node goes away before taking it: this node takes it, and starts it as asked.
            try registry.leave(node: "other")
            await fixture.service.clusterRound()
            #expect(await fixture.service.supervisor.isActive(second))
            _ = try await TaskTests.waitForStatus(api, second, "running")
            let events = try await api.ok("DescribeEvents", ["SourceIdentifier": "second", "SourceType": "replication-task", "Duration": 60])
            let messages = (events["Events"] as? [[String: Any]] ?? []).compactMap { $0["Message"] as? String }
            #expect(messages.contains("Replication task has started.") && !messages.contains { $0.contains("resumes") }, "\(messages)")
            for arn in [first, second] {
                _ = try await api.ok("StopReplicationTask", ["ReplicationTaskArn": arn])
                _ = try await TaskTests.waitForStatus(api, arn, "stopped")
            }
        }
    }
}
