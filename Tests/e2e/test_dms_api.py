"""End-to-end tests of `ferry serve` through real AWS clients (boto3 and the aws CLI) on a loopback socket.

Run by scripts/test.sh after `swift test`, with FERRY_BIN (the ferry binary), FERRY_TEST_POSTGRES_URL and
FERRY_TEST_MYSQL_URL set.
"""
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.parse
import urllib.request
import uuid

import boto3
import botocore.exceptions
import pytest

ACCESS_KEY = "AKIAFERRYE2ETEST0001"
SECRET_KEY = "e2e/secret/key/for/ferry/tests/0123456789"
REGION = "eu-central-1"
FAST = {"Delay": 1, "MaxAttempts": 120}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(data_dir, *options):
    """Starts `ferry serve` with the tests' key pair on a free loopback port, with extra `options`, and waits
    until it answers; returns (process, url)."""
    port = free_port()
    env = dict(os.environ, FERRY_ACCESS_KEY_ID=ACCESS_KEY, FERRY_SECRET_ACCESS_KEY=SECRET_KEY)
    process = subprocess.Popen([os.environ["FERRY_BIN"], "serve", "--listen", f"127.0.0.1:{port}", "--data-dir", data_dir, *options],
                               env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            if urllib.request.urlopen(url + "/health", timeout=1).read() == b"ok":
                return process, url
        except OSError:
            time.sleep(0.05)
    process.kill()
    raise RuntimeError("ferry serve did not start: " + process.stdout.read().decode())


@pytest.fixture(scope="module")
def server():
    data_dir = tempfile.mkdtemp(prefix="ferry-e2e-")
    process, url = start_server(data_dir)
    yield {"url": url, "data_dir": data_dir, "process": process}
    process.terminate()
    process.wait(timeout=30)
    shutil.rmtree(data_dir, ignore_errors=True)


def client(server, secret=SECRET_KEY, key=ACCESS_KEY):
    return boto3.client("dms", endpoint_url=server["url"], region_name=REGION,
                        aws_access_key_id=key, aws_secret_access_key=secret)


def server_endpoint(url_text, identifier, endpoint_type, database=None):
    url = urllib.parse.urlparse(url_text)
    engine = "postgres" if url.scheme.startswith("postgres") else "mariadb"
    args = {"EndpointIdentifier": identifier, "EndpointType": endpoint_type, "EngineName": engine,
            "ServerName": url.hostname, "Port": url.port, "Username": url.username or "root"}
    if url.password:
        args["Password"] = url.password
    if database:
        args["DatabaseName"] = database
    return args


def error_code(call, **args):
    """The AWS error code and message `call(**args)` fails with."""
    with pytest.raises(botocore.exceptions.ClientError) as refused:
        call(**args)
    return refused.value.response["Error"]["Code"], refused.value.response["Error"]["Message"]


def psql(sql, database):
    url = urllib.parse.urlparse(os.environ["FERRY_TEST_POSTGRES_URL"])
    return subprocess.run(["psql", "-X", "-q", "-At", "-h", url.hostname, "-p", str(url.port), "-U", url.username or "postgres",
                           "-d", database, "-c", sql], check=True, capture_output=True, text=True).stdout.strip()


def mariadb(sql):
    url = urllib.parse.urlparse(os.environ["FERRY_TEST_MYSQL_URL"])
    return subprocess.run(["mariadb", "--protocol=tcp", "-h", url.hostname, "-P", str(url.port), "-u", url.username or "root",
                           "-N", "-B", "-e", sql], check=True, capture_output=True, text=True).stdout.strip()


def test_signature_errors_come_back_as_aws_error_codes(server):
    with pytest.raises(botocore.exceptions.ClientError) as wrong_secret:
        client(server, secret="not-the-secret").describe_endpoints()
    assert wrong_secret.value.response["Error"]["Code"] == "InvalidSignatureException"
    with pytest.raises(botocore.exceptions.ClientError) as unknown_key:
        client(server, key="AKIANOBODY0000000000").describe_endpoints()
    assert unknown_key.value.response["Error"]["Code"] == "UnrecognizedClientException"
    unsigned = urllib.request.Request(server["url"] + "/", data=b"{}", method="POST",
                                      headers={"X-Amz-Target": "AmazonDMSv20160101.DescribeEndpoints",
                                               "Content-Type": "application/x-amz-json-1.1"})
    with pytest.raises(urllib.error.HTTPError) as missing:
        urllib.request.urlopen(unsigned)
    assert json.loads(missing.value.read())["__type"] == "IncompleteSignature"


def test_lab_flow_with_boto3_and_waiters(server):
    dms = client(server)
    suffix = uuid.uuid4().hex[:8]
    source_db = f"e2e_src_{suffix}"
    psql(f"CREATE DATABASE {source_db}", "postgres")
    psql("CREATE TABLE public.customers (id int PRIMARY KEY, name text); "
         "INSERT INTO public.customers SELECT g, 'customer ' || g FROM generate_series(1, 1000) g; "
         "CREATE TABLE public.big (id bigint PRIMARY KEY, payload text); "
         "INSERT INTO public.big SELECT g, md5(g::text) FROM generate_series(1, 1500000) g", source_db)
    sqlite_target = os.path.join(server["data_dir"], f"target-{suffix}.db")

    source = dms.create_endpoint(**server_endpoint(os.environ["FERRY_TEST_POSTGRES_URL"], f"pg-{suffix}", "source", source_db))["Endpoint"]
    assert "Password" not in source
    target = dms.create_endpoint(EndpointIdentifier=f"lite-{suffix}", EndpointType="target", EngineName="sqlite",
                                 DatabaseName=sqlite_target)["Endpoint"]
    instance = dms.create_replication_instance(ReplicationInstanceIdentifier=f"worker-{suffix}",
                                               ReplicationInstanceClass="dms.t3.medium")["ReplicationInstance"]
    dms.get_waiter("replication_instance_available").wait(
        Filters=[{"Name": "replication-instance-arn", "Values": [instance["ReplicationInstanceArn"]]}], WaiterConfig=FAST)
    for endpoint in (source, target):
        dms.test_connection(ReplicationInstanceArn=instance["ReplicationInstanceArn"], EndpointArn=endpoint["EndpointArn"])
        dms.get_waiter("test_connection_succeeds").wait(
            Filters=[{"Name": "endpoint-arn", "Values": [endpoint["EndpointArn"]]}], WaiterConfig=FAST)

    mappings = {"rules": [
        {"rule-type": "selection", "rule-id": "1", "rule-name": "public", "object-locator": {"schema-name": "public", "table-name": "%"},
         "rule-action": "include"}]}
    task = dms.create_replication_task(ReplicationTaskIdentifier=f"copy-{suffix}", SourceEndpointArn=source["EndpointArn"],
                                       TargetEndpointArn=target["EndpointArn"], ReplicationInstanceArn=instance["ReplicationInstanceArn"],
                                       MigrationType="full-load", TableMappings=json.dumps(mappings))["ReplicationTask"]
    by_arn = [{"Name": "replication-task-arn", "Values": [task["ReplicationTaskArn"]]}]
    dms.get_waiter("replication_task_ready").wait(Filters=by_arn, WaiterConfig=FAST)

    # Start, see it running, stop it by hand: it ends stopped with NORMAL.
    dms.start_replication_task(ReplicationTaskArn=task["ReplicationTaskArn"], StartReplicationTaskType="start-replication")
    dms.get_waiter("replication_task_running").wait(Filters=by_arn, WaiterConfig=FAST)
    dms.stop_replication_task(ReplicationTaskArn=task["ReplicationTaskArn"])
    dms.get_waiter("replication_task_stopped").wait(Filters=by_arn, WaiterConfig=FAST)
    stopped = dms.describe_replication_tasks(Filters=by_arn)["ReplicationTasks"][0]
    assert stopped["StopReason"] in ("Stop Reason NORMAL", "Stop Reason FULL_LOAD_ONLY_FINISHED")

    # Reload everything; the full load runs to the end by itself.
    dms.start_replication_task(ReplicationTaskArn=task["ReplicationTaskArn"], StartReplicationTaskType="reload-target")
    time.sleep(0.2)
    dms.get_waiter("replication_task_stopped").wait(Filters=by_arn, WaiterConfig=FAST)
    finished = dms.describe_replication_tasks(Filters=by_arn)["ReplicationTasks"][0]
    assert finished["StopReason"] == "Stop Reason FULL_LOAD_ONLY_FINISHED"
    assert finished["ReplicationTaskStats"]["TablesLoaded"] == 2
    assert finished["ReplicationTaskStats"]["FullLoadProgressPercent"] == 100
    stats = {t["TableName"]: t for t in dms.describe_table_statistics(ReplicationTaskArn=task["ReplicationTaskArn"])["TableStatistics"]}
    assert stats["customers"]["FullLoadRows"] == 1000
    assert stats["big"]["FullLoadRows"] == 1500000
    assert stats["big"]["TableState"] == "Table completed"

    with pytest.raises(dms.exceptions.InvalidResourceStateFault):
        dms.delete_endpoint(EndpointArn=source["EndpointArn"])
    dms.delete_replication_task(ReplicationTaskArn=task["ReplicationTaskArn"])
    dms.get_waiter("replication_task_deleted").wait(Filters=by_arn, WaiterConfig=FAST)
    for endpoint in (source, target):
        dms.delete_endpoint(EndpointArn=endpoint["EndpointArn"])
        dms.get_waiter("endpoint_deleted").wait(Filters=[{"Name": "endpoint-arn", "Values": [endpoint["EndpointArn"]]}], WaiterConfig=FAST)
    dms.delete_replication_instance(ReplicationInstanceArn=instance["ReplicationInstanceArn"])
    dms.get_waiter("replication_instance_deleted").wait(
        Filters=[{"Name": "replication-instance-arn", "Values": [instance["ReplicationInstanceArn"]]}], WaiterConfig=FAST)
    with pytest.raises(dms.exceptions.ResourceNotFoundFault):
        dms.describe_endpoints(Filters=[{"Name": "endpoint-id", "Values": [f"pg-{suffix}"]}])
    psql(f"DROP DATABASE {source_db} WITH (FORCE)", "postgres")


def test_aws_cli_full_load_postgres_to_mariadb(server):
    suffix = uuid.uuid4().hex[:8]
    source_db = f"cli_src_{suffix}"
    target_schema = f"cli_dst_{suffix}"
    psql(f"CREATE DATABASE {source_db}", "postgres")
    psql("CREATE TABLE public.orders (id int PRIMARY KEY, total numeric(10,2), note text); "
         "INSERT INTO public.orders SELECT g, g * 1.25, 'order ' || g FROM generate_series(1, 2500) g", source_db)
    env = dict(os.environ, AWS_ACCESS_KEY_ID=ACCESS_KEY, AWS_SECRET_ACCESS_KEY=SECRET_KEY, AWS_DEFAULT_REGION=REGION)

    def aws(*args):
        out = subprocess.run(["aws", "dms", *args, "--endpoint-url", server["url"], "--output", "json"],
                             env=env, check=True, capture_output=True, text=True).stdout
        return json.loads(out) if out.strip() else {}

    pg = urllib.parse.urlparse(os.environ["FERRY_TEST_POSTGRES_URL"])
    my = urllib.parse.urlparse(os.environ["FERRY_TEST_MYSQL_URL"])
    source = aws("create-endpoint", "--endpoint-identifier", f"cli-pg-{suffix}", "--endpoint-type", "source",
                 "--engine-name", "postgres", "--server-name", pg.hostname, "--port", str(pg.port),
                 "--username", pg.username or "postgres", "--database-name", source_db)["Endpoint"]
    target = aws("create-endpoint", "--endpoint-identifier", f"cli-my-{suffix}", "--endpoint-type", "target",
                 "--engine-name", "mariadb", "--server-name", my.hostname, "--port", str(my.port),
                 "--username", my.username or "root")["Endpoint"]
    instance = aws("create-replication-instance", "--replication-instance-identifier", f"cli-{suffix}",
                   "--replication-instance-class", "dms.t3.medium")["ReplicationInstance"]
    mappings = json.dumps({"rules": [
        {"rule-type": "selection", "rule-id": "1", "rule-name": "1", "object-locator": {"schema-name": "public", "table-name": "orders"},
         "rule-action": "include"},
        {"rule-type": "transformation", "rule-id": "2", "rule-name": "2", "rule-target": "schema",
         "object-locator": {"schema-name": "public"}, "rule-action": "rename", "value": target_schema}]})
    task = aws("create-replication-task", "--replication-task-identifier", f"cli-task-{suffix}",
               "--source-endpoint-arn", source["EndpointArn"], "--target-endpoint-arn", target["EndpointArn"],
               "--replication-instance-arn", instance["ReplicationInstanceArn"], "--migration-type", "full-load",
               "--table-mappings", mappings)["ReplicationTask"]
    aws("wait", "replication-task-ready", "--filters", f"Name=replication-task-arn,Values={task['ReplicationTaskArn']}")
    aws("start-replication-task", "--replication-task-arn", task["ReplicationTaskArn"],
        "--start-replication-task-type", "start-replication")
    for _ in range(600):
        current = aws("describe-replication-tasks", "--filters", f"Name=replication-task-arn,Values={task['ReplicationTaskArn']}")
        if current["ReplicationTasks"][0]["Status"] == "stopped":
            break
        time.sleep(0.1)
    assert current["ReplicationTasks"][0]["StopReason"] == "Stop Reason FULL_LOAD_ONLY_FINISHED"
    assert mariadb(f"SELECT count(*), sum(total) FROM `{target_schema}`.orders") == "2500\t3907812.50"
    psql(f"DROP DATABASE {source_db} WITH (FORCE)", "postgres")
    mariadb(f"DROP DATABASE `{target_schema}`")


def test_full_load_and_cdc_task_streams_changes_stops_resumes_and_validates(server):
    dms = client(server)
    suffix = uuid.uuid4().hex[:8]
    source_db = f"e2e_cdc_{suffix}"
    psql(f"CREATE DATABASE {source_db}", "postgres")
    psql("CREATE TABLE public.orders (id int PRIMARY KEY, status text); "
         "INSERT INTO public.orders SELECT g, 'new' FROM generate_series(1, 1000) g", source_db)
    sqlite_target = os.path.join(server["data_dir"], f"cdc-{suffix}.db")
    source = dms.create_endpoint(**server_endpoint(os.environ["FERRY_TEST_POSTGRES_URL"], f"cdc-pg-{suffix}", "source", source_db))["Endpoint"]
    target = dms.create_endpoint(EndpointIdentifier=f"cdc-lite-{suffix}", EndpointType="target", EngineName="sqlite",
                                 DatabaseName=sqlite_target)["Endpoint"]
    instance = dms.create_replication_instance(ReplicationInstanceIdentifier=f"cdc-worker-{suffix}",
                                               ReplicationInstanceClass="dms.t3.medium")["ReplicationInstance"]
    mappings = {"rules": [{"rule-type": "selection", "rule-id": "1", "rule-name": "public",
                           "object-locator": {"schema-name": "public", "table-name": "%"}, "rule-action": "include"}]}
    task = dms.create_replication_task(ReplicationTaskIdentifier=f"cdc-{suffix}", SourceEndpointArn=source["EndpointArn"],
                                       TargetEndpointArn=target["EndpointArn"], ReplicationInstanceArn=instance["ReplicationInstanceArn"],
                                       MigrationType="full-load-and-cdc", TableMappings=json.dumps(mappings),
                                       ReplicationTaskSettings=json.dumps({"ValidationSettings": {"EnableValidation": True}}))["ReplicationTask"]
    arn = task["ReplicationTaskArn"]
    by_arn = [{"Name": "replication-task-arn", "Values": [arn]}]
    dms.get_waiter("replication_task_ready").wait(Filters=by_arn, WaiterConfig=FAST)
    dms.start_replication_task(ReplicationTaskArn=arn, StartReplicationTaskType="start-replication")
    dms.get_waiter("replication_task_running").wait(Filters=by_arn, WaiterConfig=FAST)

    def target_rows(sql):
        import sqlite3
        with sqlite3.connect(sqlite_target) as db:
            return db.execute(sql).fetchall()

    def wait_for(condition, what):
        for _ in range(300):
            try:
                if condition():
                    return
            except Exception:
                pass
            time.sleep(0.1)
        state = dms.describe_replication_tasks(Filters=by_arn)["ReplicationTasks"][0]
        raise AssertionError(f"timed out waiting for {what}: task {state['Status']}, {state.get('LastFailureMessage')}")

    def statistics():
        return {t["TableName"]: t for t in dms.describe_table_statistics(ReplicationTaskArn=arn)["TableStatistics"]}

    wait_for(lambda: statistics()["orders"].get("ValidationState") == "Validated", "validation after the full load")
    psql("INSERT INTO public.orders VALUES (1001, 'new'); UPDATE public.orders SET status = 'paid' WHERE id = 1; "
         "DELETE FROM public.orders WHERE id = 2", source_db)
    wait_for(lambda: target_rows("SELECT count(*), (SELECT status FROM orders WHERE id = 1) FROM orders") == [(1000, "paid")], "the changes")
    wait_for(lambda: statistics()["orders"]["Inserts"] == 1 and statistics()["orders"]["Deletes"] == 1, "change statistics")
    stats = statistics()["orders"]
    assert stats["Updates"] == 1 and stats["FullLoadRows"] == 1000 and stats["TableState"] == "Table completed"
    checkpoint = dms.describe_replication_tasks(Filters=by_arn)["ReplicationTasks"][0]["RecoveryCheckpoint"]
    assert "/" in checkpoint

    # Stopped, the task misses nothing: resume-processing applies what was written meanwhile.
    dms.stop_replication_task(ReplicationTaskArn=arn)
    dms.get_waiter("replication_task_stopped").wait(Filters=by_arn, WaiterConfig=FAST)
    assert dms.describe_replication_tasks(Filters=by_arn)["ReplicationTasks"][0]["StopReason"] == "Stop Reason NORMAL"
    psql("UPDATE public.orders SET status = 'shipped' WHERE id <= 10", source_db)
    dms.start_replication_task(ReplicationTaskArn=arn, StartReplicationTaskType="resume-processing")
    # Rows 1 to 10 but 2, which was deleted.
    wait_for(lambda: target_rows("SELECT count(*) FROM orders WHERE status = 'shipped'") == [(9,)], "changes made while stopped")
    dms.stop_replication_task(ReplicationTaskArn=arn)
    dms.get_waiter("replication_task_stopped").wait(Filters=by_arn, WaiterConfig=FAST)

    # Deleting the task drops its slot, so the source keeps no WAL for it.
    dms.delete_replication_task(ReplicationTaskArn=arn)
    assert psql(f"SELECT count(*) FROM pg_replication_slots WHERE slot_name = 'ferry_cdc_{suffix}'", source_db) == "0"
    psql(f"DROP DATABASE {source_db}", "postgres")


def test_cdc_task_from_mariadb_stops_by_itself_at_its_stop_position(server):
    dms = client(server)
    suffix = uuid.uuid4().hex[:8]
    source_db, target_db = f"e2e_bin_{suffix}", f"e2e_bin_dst_{suffix}"
    mariadb(f"CREATE DATABASE {source_db}; CREATE TABLE {source_db}.orders (id int PRIMARY KEY, status varchar(20)); "
            f"USE {source_db}; INSERT INTO orders SELECT seq, 'new' FROM seq_1_to_500")
    psql(f"CREATE DATABASE {target_db}", "postgres")
    source = dms.create_endpoint(**server_endpoint(os.environ["FERRY_TEST_MYSQL_URL"], f"bin-src-{suffix}", "source", source_db))["Endpoint"]
    target = dms.create_endpoint(**server_endpoint(os.environ["FERRY_TEST_POSTGRES_URL"], f"bin-dst-{suffix}", "target", target_db))["Endpoint"]
    instance = dms.create_replication_instance(ReplicationInstanceIdentifier=f"bin-worker-{suffix}",
                                               ReplicationInstanceClass="dms.t3.medium")["ReplicationInstance"]
    mappings = {"rules": [
        {"rule-type": "selection", "rule-id": "1", "rule-name": "all", "object-locator": {"schema-name": source_db, "table-name": "%"},
         "rule-action": "include"},
        {"rule-type": "transformation", "rule-id": "2", "rule-name": "schema", "rule-target": "schema",
         "object-locator": {"schema-name": source_db}, "rule-action": "rename", "value": "public"}]}
    stop_at = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(time.time() + 12))
    task = dms.create_replication_task(ReplicationTaskIdentifier=f"bin-{suffix}", SourceEndpointArn=source["EndpointArn"],
                                       TargetEndpointArn=target["EndpointArn"], ReplicationInstanceArn=instance["ReplicationInstanceArn"],
                                       MigrationType="full-load-and-cdc", TableMappings=json.dumps(mappings),
                                       CdcStopPosition=f"server_time:{stop_at}")["ReplicationTask"]
    assert task["CdcStopPosition"] == f"server_time:{stop_at}"
    arn = task["ReplicationTaskArn"]
    by_arn = [{"Name": "replication-task-arn", "Values": [arn]}]
    dms.get_waiter("replication_task_ready").wait(Filters=by_arn, WaiterConfig=FAST)
    dms.start_replication_task(ReplicationTaskArn=arn, StartReplicationTaskType="start-replication")
    for _ in range(100):
        tables = dms.describe_table_statistics(ReplicationTaskArn=arn)["TableStatistics"]
        if tables and tables[0]["FullLoadRows"] == 500:
            break
        time.sleep(0.1)
    mariadb(f"UPDATE {source_db}.orders SET status = 'paid' WHERE id <= 5; DELETE FROM {source_db}.orders WHERE id = 6")
    dms.get_waiter("replication_task_stopped").wait(Filters=by_arn, WaiterConfig={"Delay": 1, "MaxAttempts": 60})
    state = dms.describe_replication_tasks(Filters=by_arn)["ReplicationTasks"][0]
    assert state["StopReason"] == "Stop Reason STOPPED_AT_SERVER_TIME", state
    assert ":" in state["RecoveryCheckpoint"] and "/" not in state["RecoveryCheckpoint"], state["RecoveryCheckpoint"]
    assert psql("SELECT count(*), count(*) FILTER (WHERE status = 'paid') FROM public.orders", target_db) == "499|5"
    dms.delete_replication_task(ReplicationTaskArn=arn)
    mariadb(f"DROP DATABASE {source_db}")
    psql(f"DROP DATABASE {target_db} WITH (FORCE)", "postgres")
