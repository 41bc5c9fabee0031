"""DescribeAccountAttributes and the quotas the create operations enforce, through boto3, on a `ferry serve`
started with `--quota` overrides; and a bad `--quota` refused at start."""
import os
import shutil
import subprocess
import tempfile

import boto3
import pytest

from test_dms_api import ACCESS_KEY, REGION, SECRET_KEY, error_code, free_port, start_server


@pytest.fixture(scope="module")
def small_server():
    data_dir = tempfile.mkdtemp(prefix="ferry-quotas-")
    process, url = start_server(data_dir, "--quota", "Endpoints=2", "--quota", "AllocatedStorage=60",
                                "--quota", "SubnetsPerReplicationSubnetGroup=2")
    yield boto3.client("dms", endpoint_url=url, region_name=REGION, aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY)
    process.terminate()
    process.wait(timeout=30)
    shutil.rmtree(data_dir, ignore_errors=True)


def quotas(dms):
    return {q["AccountQuotaName"]: (q["Used"], q["Max"]) for q in dms.describe_account_attributes()["AccountQuotas"]}


def test_the_quotas_are_reported_and_enforced_at_creation(small_server):
    dms = small_server
    attributes = dms.describe_account_attributes()
    assert attributes["UniqueAccountIdentifier"].startswith("c") and len(attributes["UniqueAccountIdentifier"]) == 12
    assert quotas(dms) == {"ReplicationInstances": (0, 60), "AllocatedStorage": (0, 60), "Endpoints": (0, 2), "ReplicationTasks": (0, 600),
                           "Certificates": (0, 100), "EventSubscriptions": (0, 60), "ReplicationSubnetGroups": (0, 60),
                           "SubnetsPerReplicationSubnetGroup": (0, 2)}

    for name in ("one", "two"):
        dms.create_endpoint(EndpointIdentifier=name, EndpointType="target", EngineName="sqlite", DatabaseName=f"/tmp/{name}.db")
    code, message = error_code(dms.create_endpoint, EndpointIdentifier="three", EndpointType="target", EngineName="sqlite", DatabaseName="/tmp/3.db")
    assert code == "ResourceQuotaExceededFault" and "Endpoints" in message and "--quota Endpoints=" in message, message
    assert quotas(dms)["Endpoints"] == (2, 2)

    instance = dms.create_replication_instance(ReplicationInstanceIdentifier="q1", ReplicationInstanceClass="dms.t3.micro",
                                               AllocatedStorage=50)["ReplicationInstance"]
    code, message = error_code(dms.create_replication_instance, ReplicationInstanceIdentifier="q2", ReplicationInstanceClass="dms.t3.micro",
                               AllocatedStorage=20)
    assert code == "ResourceQuotaExceededFault" and "AllocatedStorage" in message, message
    code, _ = error_code(dms.modify_replication_instance, ReplicationInstanceArn=instance["ReplicationInstanceArn"], AllocatedStorage=70)
    assert code == "ResourceQuotaExceededFault"
    dms.modify_replication_instance(ReplicationInstanceArn=instance["ReplicationInstanceArn"], AllocatedStorage=60)
    assert quotas(dms)["AllocatedStorage"] == (60, 60) and quotas(dms)["ReplicationInstances"] == (1, 60)

    code, _ = error_code(dms.create_replication_subnet_group, ReplicationSubnetGroupIdentifier="wide", ReplicationSubnetGroupDescription="x",
                         SubnetIds=["subnet-0a1b2c3d", "subnet-1a1b2c3d", "subnet-2a1b2c3d"])
    assert code == "ResourceQuotaExceededFault"
    dms.create_replication_subnet_group(ReplicationSubnetGroupIdentifier="pair", ReplicationSubnetGroupDescription="x",
                                        SubnetIds=["subnet-0a1b2c3d", "subnet-1a1b2c3d"])
    assert quotas(dms)["SubnetsPerReplicationSubnetGroup"] == (2, 2) and quotas(dms)["ReplicationSubnetGroups"] == (1, 60)


def test_a_bad_quota_is_refused_at_start():
    with tempfile.TemporaryDirectory() as data_dir:
        for bad, says in (("Tasks=5", "NAME one of"), ("Endpoints=0", "1 or more"), ("Endpoints", "NAME=MAX")):
            result = subprocess.run([os.environ["FERRY_BIN"], "serve", "--listen", f"127.0.0.1:{free_port()}", "--data-dir", data_dir, "--quota", bad],
                                    capture_output=True, text=True, timeout=60)
            assert result.returncode == 2 and "--quota" in result.stderr and says in result.stderr, result.stderr
