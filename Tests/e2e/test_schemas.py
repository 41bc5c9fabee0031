"""RefreshSchemas, DescribeRefreshSchemasStatus and DescribeSchemas through boto3, as DMS answers them: a
refresh reads the endpoint's schemas in the background, and DescribeSchemas lists what it found."""
import json
import os
import subprocess
import time
import uuid

from test_dms_api import client, mariadb, psql, server, server_endpoint  # noqa: F401
from test_subnet_groups import error_code


def refreshed(dms, endpoint, instance):
    """Refreshes the endpoint's schemas and returns the status once the refresh has ended."""
    started = dms.refresh_schemas(EndpointArn=endpoint, ReplicationInstanceArn=instance)["RefreshSchemasStatus"]
    assert started["EndpointArn"] == endpoint and started["Status"] in ("refreshing", "successful")
    for _ in range(100):
        status = dms.describe_refresh_schemas_status(EndpointArn=endpoint)["RefreshSchemasStatus"]
        if status["Status"] != "refreshing":
            return status
        time.sleep(0.1)
    raise AssertionError("the refresh never ended")


def test_an_endpoints_schemas_are_refreshed_and_listed(server):
    dms = client(server)
    suffix = uuid.uuid4().hex[:8]
    database = f"schemas_{suffix}"
    psql(f"CREATE DATABASE {database}", "postgres")
    mariadb(f"CREATE DATABASE {database}")
    try:
        psql("CREATE SCHEMA sales; CREATE SCHEMA hr", database)
        instance = dms.create_replication_instance(ReplicationInstanceIdentifier=f"ri-{suffix}", ReplicationInstanceClass="dms.t3.medium")
        instance = instance["ReplicationInstance"]["ReplicationInstanceArn"]
        pg = dms.create_endpoint(**server_endpoint(os.environ["FERRY_TEST_POSTGRES_URL"], f"pg-{suffix}", "source", database))["Endpoint"]["EndpointArn"]
        maria = dms.create_endpoint(**server_endpoint(os.environ["FERRY_TEST_MYSQL_URL"], f"maria-{suffix}", "target"))["Endpoint"]["EndpointArn"]
        nowhere = dms.create_endpoint(EndpointIdentifier=f"nowhere-{suffix}", EndpointType="source", EngineName="postgres",
                                      Username="app", DatabaseName="app")["Endpoint"]["EndpointArn"]

        assert error_code(dms.describe_schemas, EndpointArn=pg)[0] == "InvalidResourceStateFault"
        assert error_code(dms.describe_refresh_schemas_status, EndpointArn=pg)[0] == "ResourceNotFoundFault"
        assert error_code(dms.refresh_schemas, EndpointArn=pg + "x", ReplicationInstanceArn=instance)[0] == "ResourceNotFoundFault"

        status = refreshed(dms, pg, instance)
        assert status["Status"] == "successful" and status["ReplicationInstanceArn"] == instance and "LastRefreshDate" in status
        assert dms.describe_schemas(EndpointArn=pg)["Schemas"] == ["hr", "public", "sales"], "the user's schemas, not the system's"

        assert refreshed(dms, maria, instance)["Status"] == "successful"
        schemas = dms.describe_schemas(EndpointArn=maria)["Schemas"]
        assert database in schemas and not {"mysql", "information_schema", "performance_schema", "sys"} & set(schemas)

        failed = refreshed(dms, nowhere, instance)
        assert failed["Status"] == "failed" and "ServerName" in failed["LastFailureMessage"], failed
        code, message = error_code(dms.describe_schemas, EndpointArn=nowhere)
        assert code == "InvalidResourceStateFault" and "failed" in message

        # The aws CLI reads the same list, page by page.
        env = dict(os.environ, AWS_ACCESS_KEY_ID=dms._request_signer._credentials.access_key,
                   AWS_SECRET_ACCESS_KEY=dms._request_signer._credentials.secret_key, AWS_DEFAULT_REGION=dms.meta.region_name)
        listed = subprocess.run(["aws", "dms", "describe-schemas", "--endpoint-arn", pg, "--endpoint-url", server["url"], "--output", "json"],
                                capture_output=True, text=True, env=env, check=True)
        assert json.loads(listed.stdout)["Schemas"] == ["hr", "public", "sales"]
    finally:
        psql(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)", "postgres")
        mariadb(f"DROP DATABASE IF EXISTS {database}")
