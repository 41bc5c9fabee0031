#!/usr/bin/env python3
"""Generates Sources/FerryAPI/Generated/DMSShapes.swift from botocore's `dms` service model.

Emits a Codable struct for the input and output shapes of every operation Ferry implements, and for the
structures they contain, with the model's member names as property names. Members whose structure Ferry
does not implement (S3Settings, KafkaSettings, ...) are left out, so they are ignored when sent.
Run: python3 scripts/generate-dms-shapes.py > Sources/FerryAPI/Generated/DMSShapes.swift
With --api-table it prints docs/api.md instead: every operation of the model and whether Ferry answers it.
"""
import sys

import botocore
import botocore.session

OPERATIONS = [
    "CreateEndpoint", "DescribeEndpoints", "ModifyEndpoint", "DeleteEndpoint", "TestConnection",
    "DescribeConnections", "DescribeEndpointTypes",
    "CreateReplicationInstance", "DescribeReplicationInstances", "ModifyReplicationInstance",
    "DeleteReplicationInstance",
    "CreateReplicationTask", "DescribeReplicationTasks", "ModifyReplicationTask", "StartReplicationTask",
    "StopReplicationTask", "DeleteReplicationTask", "ReloadTables", "DescribeTableStatistics",
    "DescribeEvents", "AddTagsToResource", "RemoveTagsFromResource", "ListTagsForResource",
    "StartReplicationTaskAssessmentRun", "DescribeReplicationTaskAssessmentRuns",
    "DescribeReplicationTaskIndividualAssessments", "DescribeApplicableIndividualAssessments",
    "CancelReplicationTaskAssessmentRun", "DeleteReplicationTaskAssessmentRun",
    "StartReplicationTaskAssessment", "DescribeReplicationTaskAssessmentResults",
    "DescribeReplicationInstanceTaskLogs",
    "DescribeEventCategories", "CreateEventSubscription", "ModifyEventSubscription", "DeleteEventSubscription",
    "DescribeEventSubscriptions",
    "CreateReplicationSubnetGroup", "DescribeReplicationSubnetGroups", "ModifyReplicationSubnetGroup",
    "DeleteReplicationSubnetGroup",
    "DescribeOrderableReplicationInstances", "DescribeEngineVersions", "DescribePendingMaintenanceActions",
    "DeleteConnection", "DescribeEndpointSettings", "RebootReplicationInstance", "MoveReplicationTask",
    "RefreshSchemas", "DescribeRefreshSchemasStatus", "DescribeSchemas",
    "ImportCertificate", "DescribeCertificates", "DeleteCertificate", "DescribeAccountAttributes",
    "CreateReplicationConfig", "DescribeReplicationConfigs", "ModifyReplicationConfig", "DeleteReplicationConfig",
    "StartReplication", "StopReplication", "DescribeReplications", "DescribeReplicationTableStatistics",
    "ReloadReplicationTables",
]

# Nested structures Ferry does not implement: members of these types are not generated.
SKIPPED = {
    "DynamoDbSettings", "S3Settings", "DmsTransferSettings", "MongoDbSettings", "KinesisSettings",
    "KafkaSettings", "ElasticsearchSettings", "NeptuneSettings", "RedshiftSettings", "OracleSettings",
    "SybaseSettings", "MicrosoftSQLServerSettings", "IBMDb2Settings", "DocDbSettings", "RedisSettings",
    "GcpMySQLSettings", "TimestreamSettings", "LakehouseSettings",
    "VpcSecurityGroupMembershipList", "KerberosAuthenticationSettings", "ReplicationPendingModifiedValues",
}

SCALARS = {"string": "String", "integer": "Int", "long": "Int", "boolean": "Bool", "double": "Double",
           "float": "Double", "timestamp": "Date", "blob": "String"}


def swift_type(shape, pending):
    if shape.type_name in SCALARS:
        return SCALARS[shape.type_name]
    if shape.type_name == "list":
        inner = swift_type(shape.member, pending)
        return None if inner is None else f"[{inner}]"
    if shape.type_name == "map":
        inner = swift_type(shape.value, pending)
        return None if inner is None else f"[String: {inner}]"
    if shape.type_name == "structure":
        if shape.name in SKIPPED:
            return None
        pending.append(shape)
        return shape.name
    return None


# Member names Swift does not allow as property names, and what the property is called instead.
RENAMED = {"Type": "TypeName"}


def swift_name(member):
    return RENAMED.get(member, member)


def main():
    model = botocore.session.get_session().get_service_model("dms")
    pending, done, out = [], set(), []
    for name in OPERATIONS:
        op = model.operation_model(name)
        for shape in (op.input_shape, op.output_shape):
            if shape is not None:
                pending.append(shape)
    while pending:
        shape = pending.pop(0)
        if shape.name in done:
            continue
        done.add(shape.name)
        required = list(shape.required_members)
        lines = [f"/// `{shape.name}` from the botocore `dms` model."]
        lines.append(f"public struct {shape.name}: DMSShape {{")
        members = []
        for member, member_shape in shape.members.items():
            kind = swift_type(member_shape, pending)
            if kind is None:
                continue
            members.append(member)
            lines.append(f"    public var {swift_name(member)}: {kind}?")
        lines.append("")
        lines.append("    public init(" + ", ".join(f"{swift_name(m)}: {swift_type(shape.members[m], [])}? = nil" for m in members) + ") {")
        for m in members:
            lines.append(f"        self.{swift_name(m)} = {swift_name(m)}")
        lines.append("    }")
        if any(swift_name(m) != m for m in members):
            lines.append("")
            lines.append("    enum CodingKeys: String, CodingKey {")
            for m in members:
                lines.append(f"        case {swift_name(m)}" + (f' = "{m}"' if swift_name(m) != m else ""))
            lines.append("    }")
        lines.append("")
        lines.append("    /// Members the model marks as required.")
        lines.append("    public static let requiredMembers: [String] = [" + ", ".join(f'"{m}"' for m in required) + "]")
        lines.append("}")
        out.append("\n".join(lines))
    print(f"// Generated by scripts/generate-dms-shapes.py from botocore {botocore.__version__}'s dms model. Do not edit.")
    print("import Foundation\n")
    print("\n\n".join(out))
    print("\n/// The operations Ferry implements, by their `X-Amz-Target` suffix.")
    print("public enum DMSOperationName: String, Sendable, CaseIterable {")
    for name in OPERATIONS:
        print(f"    case {name[0].lower() + name[1:]} = \"{name}\"")
    print("}")


# What docs/api.md says beside an implemented operation whose effect differs from DMS's.
NOTES = {
    "CreateReplicationSubnetGroup": "stored and checked as DMS does; Ferry has no VPC, so no network effect",
    "ModifyReplicationSubnetGroup": "stored; no network effect",
    "DescribePendingMaintenanceActions": "always none: the operator upgrades Ferry",
    "CreateReplicationInstance": "a worker inside the server; its class sets how many tables load at once",
    "StartReplicationTaskAssessment": "the legacy assessment, answered by the assessment run's checks",
    "DescribeAccountAttributes": "DMS's default quotas, enforced when resources are created; ferry serve --quota NAME=MAX changes one",
    "CreateReplicationConfig": "DMS Serverless: runs as a task of the same name (docs/api.md); capacity units set its parallelism",
    "ImportCertificate": "PEM only (an Oracle wallet is refused); the CA an endpoint's verify-ca or verify-full checks against",
}


def api_table():
    model = botocore.session.get_session().get_service_model("dms")
    implemented = set(OPERATIONS)
    names = sorted(model.operation_names)
    print("# The DMS API in Ferry\n")
    print(f"Every operation of the DMS API (botocore {botocore.__version__}'s model, {len(names)} operations) and whether")
    print(f"`ferry serve` answers it: {len(implemented)} do. The others answer `UnknownOperationException` naming")
    print("the operation. Ferry's own operations (cutover, task logs, event deliveries, the console's) are in")
    print("docs/cutover.md, docs/task-logs.md, docs/events.md and docs/console.md. Generated by")
    print("`python3 scripts/generate-dms-shapes.py --api-table > docs/api.md`.\n")
    print("| Operation | In Ferry | Note |")
    print("|---|---|---|")
    for name in names:
        print(f"| {name} | {'yes' if name in implemented else 'no'} | {NOTES.get(name, '')} |")


if __name__ == "__main__":
    api_table() if "--api-table" in sys.argv else main()
