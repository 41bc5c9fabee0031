"""The calls Terraform's aws provider makes for a DMS stack, in its order, with boto3: a subnet group, a
certificate, an instance, two endpoints, a task and a serverless config; each read back after its create and
modify as the provider reads it (every attribute it set echoed); then all deleted in reverse order."""
import json
import os
import urllib.parse
import uuid

import pytest

from test_dms_api import FAST, REGION, client, psql, server  # noqa: F401
from test_task_defaults import MAPPINGS

pytestmark = pytest.mark.skipif("FERRY_TEST_TLS_CA" not in os.environ, reason="the test databases were started without TLS")


def test_a_terraform_shaped_stack_is_created_read_modified_and_destroyed(server):
    dms = client(server)
    suffix = uuid.uuid4().hex[:6]
    source_db, target_db = f"tf_src_{suffix}", f"tf_dst_{suffix}"
    for database in (source_db, target_db):
        psql(f"CREATE DATABASE {database}", "postgres")
    psql("CREATE TABLE public.items (id int PRIMARY KEY); INSERT INTO public.items SELECT generate_series(1, 10)", source_db)
    port = urllib.parse.urlparse(os.environ["FERRY_TEST_POSTGRES_URL"]).port
    tags = [{"Key": "stack", "Value": suffix}]
    try:
        group = dms.create_replication_subnet_group(ReplicationSubnetGroupIdentifier=f"tf-{suffix}", ReplicationSubnetGroupDescription="tf",
                                                    SubnetIds=["subnet-0a1b2c3d", "subnet-1a1b2c3d"], Tags=tags)["ReplicationSubnetGroup"]
        with open(os.environ["FERRY_TEST_TLS_CA"]) as pem:
            certificate = dms.import_certificate(CertificateIdentifier=f"tf-ca-{suffix}", CertificatePem=pem.read(), Tags=tags)["Certificate"]
        instance = dms.create_replication_instance(
            ReplicationInstanceIdentifier=f"tf-{suffix}", ReplicationInstanceClass="dms.t3.small", AllocatedStorage=20,
            ReplicationSubnetGroupIdentifier=group["ReplicationSubnetGroupIdentifier"], VpcSecurityGroupIds=["sg-0123456789abcdef0"],
            MultiAZ=False, PubliclyAccessible=False, EngineVersion="3.5.3", PreferredMaintenanceWindow="mon:01:00-mon:01:30",
            AutoMinorVersionUpgrade=True, Tags=tags)["ReplicationInstance"]
        dms.get_waiter("replication_instance_available").wait(
            Filters=[{"Name": "replication-instance-arn", "Values": [instance["ReplicationInstanceArn"]]}], WaiterConfig=FAST)
        read = dms.describe_replication_instances(Filters=[{"Name": "replication-instance-id", "Values": [f"tf-{suffix}"]}])["ReplicationInstances"][0]
        assert (read["AllocatedStorage"], read["PreferredMaintenanceWindow"], read["EngineVersion"], read["PubliclyAccessible"]) == \
            (20, "mon:01:00-mon:01:30", "3.5.3", False)
        assert read["VpcSecurityGroups"] == [{"VpcSecurityGroupId": "sg-0123456789abcdef0", "Status": "active"}]
        assert read["ReplicationSubnetGroup"]["ReplicationSubnetGroupIdentifier"] == group["ReplicationSubnetGroupIdentifier"]

        endpoints = []
        for kind, database in (("source", source_db), ("target", target_db)):
            endpoint = dms.create_endpoint(EndpointIdentifier=f"tf-{kind}-{suffix}", EndpointType=kind, EngineName="postgres",
                                           ServerName="localhost", Port=port, Username="postgres", DatabaseName=database,
                                           SslMode="verify-full", CertificateArn=certificate["CertificateArn"],
                                           ExtraConnectionAttributes="heartbeatEnable=false", Tags=tags)["Endpoint"]
            read = dms.describe_endpoints(Filters=[{"Name": "endpoint-arn", "Values": [endpoint["EndpointArn"]]}])["Endpoints"][0]
            assert (read["SslMode"], read["CertificateArn"], read["ExtraConnectionAttributes"]) == \
                ("verify-full", certificate["CertificateArn"], "heartbeatEnable=false")
            dms.test_connection(ReplicationInstanceArn=instance["ReplicationInstanceArn"], EndpointArn=endpoint["EndpointArn"])
            dms.get_waiter("test_connection_succeeds").wait(Filters=[{"Name": "endpoint-arn", "Values": [endpoint["EndpointArn"]]}],
                                                             WaiterConfig=FAST)
            endpoints.append(endpoint)
        source, target = endpoints

        task = dms.create_replication_task(ReplicationTaskIdentifier=f"tf-{suffix}", SourceEndpointArn=source["EndpointArn"],
                                           TargetEndpointArn=target["EndpointArn"], ReplicationInstanceArn=instance["ReplicationInstanceArn"],
                                           MigrationType="full-load", TableMappings=MAPPINGS, Tags=tags)["ReplicationTask"]
        by_task = [{"Name": "replication-task-arn", "Values": [task["ReplicationTaskArn"]]}]
        dms.get_waiter("replication_task_ready").wait(Filters=by_task, WaiterConfig=FAST)
        dms.start_replication_task(ReplicationTaskArn=task["ReplicationTaskArn"], StartReplicationTaskType="start-replication")
        dms.get_waiter("replication_task_stopped").wait(Filters=by_task, WaiterConfig=FAST)
        assert psql("SELECT count(*) FROM public.items", target_db) == "10", "the task copied over verify-full TLS"
        config = dms.create_replication_config(ReplicationConfigIdentifier=f"tf-sl-{suffix}", SourceEndpointArn=source["EndpointArn"],
                                               TargetEndpointArn=target["EndpointArn"], ReplicationType="full-load", TableMappings=MAPPINGS,
                                               ComputeConfig={"MaxCapacityUnits": 4, "ReplicationSubnetGroupId": group["ReplicationSubnetGroupIdentifier"]},
                                               Tags=tags)["ReplicationConfig"]

        # Modify, then read back as the provider does after an update.
        dms.modify_replication_instance(ReplicationInstanceArn=instance["ReplicationInstanceArn"], AllocatedStorage=30,
                                        VpcSecurityGroupIds=["sg-0fedcba9876543210"], ApplyImmediately=True)
        read = dms.describe_replication_instances(Filters=[{"Name": "replication-instance-arn", "Values": [instance["ReplicationInstanceArn"]]}])
        assert read["ReplicationInstances"][0]["AllocatedStorage"] == 30
        assert read["ReplicationInstances"][0]["VpcSecurityGroups"][0]["VpcSecurityGroupId"] == "sg-0fedcba9876543210"
        dms.modify_endpoint(EndpointArn=source["EndpointArn"], SslMode="require")
        assert dms.describe_endpoints(Filters=[{"Name": "endpoint-arn", "Values": [source["EndpointArn"]]}])["Endpoints"][0]["SslMode"] == "require"
        dms.modify_replication_task(ReplicationTaskArn=task["ReplicationTaskArn"], ReplicationTaskSettings=json.dumps({"Logging": {"EnableLogging": True}}))
        dms.modify_replication_config(ReplicationConfigArn=config["ReplicationConfigArn"], ComputeConfig={"MaxCapacityUnits": 8})
        account = instance["ReplicationInstanceArn"].split(":")[4]
        group_arn = f"arn:aws:dms:{REGION}:{account}:subgrp:{group['ReplicationSubnetGroupIdentifier']}"
        for arn in (group_arn, certificate["CertificateArn"], instance["ReplicationInstanceArn"], source["EndpointArn"],
                    task["ReplicationTaskArn"], config["ReplicationConfigArn"]):
            assert dms.list_tags_for_resource(ResourceArn=arn)["TagList"] == [{"Key": "stack", "Value": suffix, "ResourceArn": arn}], arn

        # Destroy in reverse order.
        dms.delete_replication_config(ReplicationConfigArn=config["ReplicationConfigArn"])
        dms.delete_replication_task(ReplicationTaskArn=task["ReplicationTaskArn"])
        dms.get_waiter("replication_task_deleted").wait(Filters=by_task, WaiterConfig=FAST)
        for endpoint in endpoints:
            dms.delete_endpoint(EndpointArn=endpoint["EndpointArn"])
            dms.get_waiter("endpoint_deleted").wait(Filters=[{"Name": "endpoint-arn", "Values": [endpoint["EndpointArn"]]}], WaiterConfig=FAST)
        dms.delete_replication_instance(ReplicationInstanceArn=instance["ReplicationInstanceArn"])
        dms.get_waiter("replication_instance_deleted").wait(
            Filters=[{"Name": "replication-instance-arn", "Values": [instance["ReplicationInstanceArn"]]}], WaiterConfig=FAST)
        dms.delete_certificate(CertificateArn=certificate["CertificateArn"])
        dms.delete_replication_subnet_group(ReplicationSubnetGroupIdentifier=group["ReplicationSubnetGroupIdentifier"])
    finally:
        for database in (source_db, target_db):
            psql(f"DROP DATABASE {database} WITH (FORCE)", "postgres")
