"""Replication subnet groups through boto3, in the order Terraform's aws provider calls them: create with
tags, read back, use from an instance, modify, and delete in reverse order; with DMS's errors."""
import time
import uuid


from test_dms_api import FAST, REGION, client, error_code, server  # noqa: F401



def test_a_subnet_group_is_made_used_changed_and_deleted_as_in_dms(server):
    dms = client(server)
    name = f"Ferry-Subnets-{uuid.uuid4().hex[:6]}"
    subnets = ["subnet-0a1b2c3d", "subnet-0123456789abcdef0"]
    group = dms.create_replication_subnet_group(ReplicationSubnetGroupIdentifier=name, ReplicationSubnetGroupDescription="for the test",
                                                SubnetIds=subnets, Tags=[{"Key": "team", "Value": "dba"}])["ReplicationSubnetGroup"]
    assert group["ReplicationSubnetGroupIdentifier"] == name.lower(), "DMS keeps the identifier in lower case"
    assert group["SubnetGroupStatus"] == "Complete" and group["VpcId"]
    assert [(s["SubnetIdentifier"], s["SubnetAvailabilityZone"]["Name"], s["SubnetStatus"]) for s in group["Subnets"]] == [
        (subnets[0], f"{REGION}a", "Active"), (subnets[1], f"{REGION}b", "Active")]

    found = dms.describe_replication_subnet_groups(Filters=[{"Name": "replication-subnet-group-id", "Values": [name.lower()]}])
    assert found["ReplicationSubnetGroups"] == [group]
    assert error_code(dms.create_replication_subnet_group, ReplicationSubnetGroupIdentifier=name, ReplicationSubnetGroupDescription="again",
                      SubnetIds=subnets)[0] == "ResourceAlreadyExistsFault"
    assert error_code(dms.create_replication_subnet_group, ReplicationSubnetGroupIdentifier="one-zone", ReplicationSubnetGroupDescription="x",
                      SubnetIds=subnets[:1])[0] == "ReplicationSubnetGroupDoesNotCoverEnoughAZs"
    code, message = error_code(dms.create_replication_subnet_group, ReplicationSubnetGroupIdentifier="bad", ReplicationSubnetGroupDescription="x",
                               SubnetIds=["subnet-0a1b2c3d", "net-1"])
    assert code == "InvalidSubnet" and "net-1" in message
    assert error_code(dms.create_replication_subnet_group, ReplicationSubnetGroupIdentifier="default", ReplicationSubnetGroupDescription="x",
                      SubnetIds=subnets)[0] == "InvalidParameterValueException"
    assert error_code(dms.describe_replication_subnet_groups, Filters=[{"Name": "replication-subnet-group-id", "Values": ["nope"]}])[0] == "ResourceNotFoundFault"

    instance = dms.create_replication_instance(ReplicationInstanceIdentifier=f"in-{name.lower()}", ReplicationInstanceClass="dms.t3.micro",
                                               ReplicationSubnetGroupIdentifier=name)["ReplicationInstance"]
    assert instance["ReplicationSubnetGroup"]["ReplicationSubnetGroupIdentifier"] == name.lower()
    account = instance["ReplicationInstanceArn"].split(":")[4]
    tags = dms.list_tags_for_resource(ResourceArn=f"arn:aws:dms:{REGION}:{account}:subgrp:{name.lower()}")["TagList"]
    assert [(t["Key"], t["Value"]) for t in tags] == [("team", "dba")]
    assert error_code(dms.create_replication_instance, ReplicationInstanceIdentifier="in-nowhere", ReplicationInstanceClass="dms.t3.micro",
                      ReplicationSubnetGroupIdentifier="nowhere")[0] == "ResourceNotFoundFault"

    changed = dms.modify_replication_subnet_group(ReplicationSubnetGroupIdentifier=name, SubnetIds=subnets + ["subnet-0f0e0d0c"])["ReplicationSubnetGroup"]
    assert len(changed["Subnets"]) == 3 and changed["ReplicationSubnetGroupDescription"] == "for the test"
    code, message = error_code(dms.delete_replication_subnet_group, ReplicationSubnetGroupIdentifier=name)
    assert code == "InvalidResourceStateFault" and f"in-{name.lower()}" in message

    dms.delete_replication_instance(ReplicationInstanceArn=instance["ReplicationInstanceArn"])
    dms.get_waiter("replication_instance_deleted").wait(
        Filters=[{"Name": "replication-instance-arn", "Values": [instance["ReplicationInstanceArn"]]}], WaiterConfig=FAST)
    dms.delete_replication_subnet_group(ReplicationSubnetGroupIdentifier=name)
    assert error_code(dms.delete_replication_subnet_group, ReplicationSubnetGroupIdentifier=name)[0] == "ResourceNotFoundFault"


def test_what_the_server_offers_is_listed_and_a_connection_result_can_be_deleted(server):
    dms = client(server)
    orderable = dms.describe_orderable_replication_instances()["OrderableReplicationInstances"]
    classes = [o["ReplicationInstanceClass"] for o in orderable]
    assert "dms.t3.medium" in classes and "dms.r5.24xlarge" in classes
    medium = next(o for o in orderable if o["ReplicationInstanceClass"] == "dms.t3.medium")
    assert (medium["MinAllocatedStorage"], medium["MaxAllocatedStorage"], medium["DefaultAllocatedStorage"]) == (5, 6144, 50)
    versions = [v["Version"] for v in dms.describe_engine_versions()["EngineVersions"]]
    settings = {s["Name"]: s for s in dms.describe_endpoint_settings(EngineName="postgres")["EndpointSettings"]}
    assert settings["heartbeatFrequency"]["DefaultValue"] == "5" and settings["heartbeatFrequency"]["Units"] == "minutes"
    assert settings["heartbeatEnable"]["Type"] == "boolean" and settings["slotName"]["Applicability"] == "source"
    assert dms.describe_endpoint_settings(EngineName="mariadb")["EndpointSettings"][0]["EnumValues"] == ["multiple-databases", "specific-database"]
    assert error_code(dms.describe_endpoint_settings, EngineName="oracle")[0] == "InvalidParameterValueException"
    suffix = uuid.uuid4().hex[:6]
    instance = dms.create_replication_instance(ReplicationInstanceIdentifier=f"offer-{suffix}", ReplicationInstanceClass=classes[0])["ReplicationInstance"]
    assert instance["EngineVersion"] in versions, "an instance reports a version DescribeEngineVersions lists"
    assert dms.describe_pending_maintenance_actions(ReplicationInstanceArn=instance["ReplicationInstanceArn"])["PendingMaintenanceActions"] == []

    endpoint = dms.create_endpoint(EndpointIdentifier=f"later-{suffix}", EndpointType="source", EngineName="postgres",
                                   DatabaseName="shop")["Endpoint"]
    pair = {"ReplicationInstanceArn": instance["ReplicationInstanceArn"], "EndpointArn": endpoint["EndpointArn"]}
    dms.test_connection(**pair)
    failed = {}
    for _ in range(100):  # the endpoint has no ServerName, so its test fails
        failed = dms.describe_connections(Filters=[{"Name": "endpoint-arn", "Values": [endpoint["EndpointArn"]]}])["Connections"][0]
        if failed["Status"] != "testing":
            break
        time.sleep(0.1)
    assert failed["Status"] == "failed" and "has no ServerName" in failed["LastFailureMessage"]
    assert dms.delete_connection(**pair)["Connection"]["Status"] == "deleting"
    assert error_code(dms.delete_connection, **pair)[0] == "ResourceNotFoundFault"
