"""Process-level tests of `ferry serve`: kill -9 and restart, graceful shutdown, generated and managed credentials."""
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.request
import uuid

import boto3
import botocore.exceptions
import pytest

from test_dms_api import FAST, free_port, psql, server_endpoint

REGION = "us-west-2"


class Server:
    """One `ferry serve` process on a data folder; several may run one after another on the same folder."""

    def __init__(self, data_dir, env_keys=True, extra=()):
        self.data_dir = data_dir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = dict(os.environ)
        env.pop("FERRY_ACCESS_KEY_ID", None)
        env.pop("FERRY_SECRET_ACCESS_KEY", None)
        if env_keys:
            env.update(FERRY_ACCESS_KEY_ID="AKIALIFECYCLE0000001", FERRY_SECRET_ACCESS_KEY="lifecycle-secret")
        self.process = subprocess.Popen([os.environ["FERRY_BIN"], "serve", "--listen", f"127.0.0.1:{self.port}",
                                         "--data-dir", data_dir, *extra], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        for _ in range(200):
            try:
                if urllib.request.urlopen(self.url + "/health", timeout=1).read() == b"ok":
                    return
            except OSError:
                time.sleep(0.05)
        self.process.kill()
        raise RuntimeError("ferry serve did not start")

    def client(self, key="AKIALIFECYCLE0000001", secret="lifecycle-secret"):
        return boto3.client("dms", endpoint_url=self.url, region_name=REGION, aws_access_key_id=key, aws_secret_access_key=secret)


@pytest.fixture
def data_dir():
    folder = tempfile.mkdtemp(prefix="ferry-life-")
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def long_task(dms, data_dir, rows):
    """A PostgreSQL → SQLite full-load task over one table of `rows` rows, created and started."""
    suffix = uuid.uuid4().hex[:8]
    database = f"life_{suffix}"
    psql(f"CREATE DATABASE {database}", "postgres")
    psql(f"CREATE TABLE public.events (id bigint PRIMARY KEY, payload text); "
         f"INSERT INTO public.events SELECT g, md5(g::text) FROM generate_series(1, {rows}) g", database)
    source = dms.create_endpoint(**server_endpoint(os.environ["FERRY_TEST_POSTGRES_URL"], f"src-{suffix}", "source", database))["Endpoint"]
    target_path = os.path.join(data_dir, "target.db")
    target = dms.create_endpoint(EndpointIdentifier=f"dst-{suffix}", EndpointType="target", EngineName="sqlite",
                                 DatabaseName=target_path)["Endpoint"]
    instance = dms.create_replication_instance(ReplicationInstanceIdentifier=f"ri-{suffix}", ReplicationInstanceClass="dms.t3.small")
    mappings = {"rules": [{"rule-type": "selection", "rule-id": "1", "rule-name": "1",
                           "object-locator": {"schema-name": "public", "table-name": "%"}, "rule-action": "include"}]}
    task = dms.create_replication_task(ReplicationTaskIdentifier=f"task-{suffix}", SourceEndpointArn=source["EndpointArn"],
                                       TargetEndpointArn=target["EndpointArn"],
                                       ReplicationInstanceArn=instance["ReplicationInstance"]["ReplicationInstanceArn"],
                                       MigrationType="full-load", TableMappings=json.dumps(mappings))["ReplicationTask"]
    arn = task["ReplicationTaskArn"]
    dms.get_waiter("replication_task_ready").wait(Filters=[{"Name": "replication-task-arn", "Values": [arn]}], WaiterConfig=FAST)
    dms.start_replication_task(ReplicationTaskArn=arn, StartReplicationTaskType="start-replication")
    for _ in range(300):
        stats = dms.describe_table_statistics(ReplicationTaskArn=arn)["TableStatistics"]
        if stats and stats[0]["FullLoadRows"] > 0:
            break
        time.sleep(0.05)
    return arn, database, target_path


def task_of(dms, arn):
    return dms.describe_replication_tasks(Filters=[{"Name": "replication-task-arn", "Values": [arn]}])["ReplicationTasks"][0]


def test_kill_9_mid_load_then_restart_resumes_the_task_by_itself_and_it_finishes(data_dir):
    first = Server(data_dir)
    dms = first.client()
    arn, database, target_path = long_task(dms, data_dir, rows=1_000_000)
    assert task_of(dms, arn)["Status"] == "running"
    first.process.send_signal(signal.SIGKILL)
    first.process.wait()

    second = Server(data_dir)
    dms = second.client()
    assert len(dms.describe_endpoints()["Endpoints"]) == 2
    assert len(dms.describe_replication_instances()["ReplicationInstances"]) == 1
    dms.get_waiter("replication_task_stopped").wait(Filters=[{"Name": "replication-task-arn", "Values": [arn]}], WaiterConfig=FAST)
    task = task_of(dms, arn)
    assert task["StopReason"] == "Stop Reason FULL_LOAD_ONLY_FINISHED", task
    messages = [e["Message"] for e in dms.describe_events(SourceType="replication-task", Duration=60)["Events"]]
    assert "Ferry stopped while the task was running; it resumes by itself from where it stopped (resume-processing)." in messages
    assert dms.describe_table_statistics(ReplicationTaskArn=arn)["TableStatistics"][0]["FullLoadRows"] == 1_000_000
    count = subprocess.run(["python3", "-c", f"import sqlite3; print(sqlite3.connect('{target_path}').execute('SELECT count(*), count(DISTINCT id) FROM events').fetchone())"],
                           capture_output=True, text=True, check=True).stdout.strip()
    assert count == "(1000000, 1000000)"
    second.process.terminate()
    second.process.wait(timeout=30)
    psql(f"DROP DATABASE {database} WITH (FORCE)", "postgres")


def test_sigterm_hands_running_tasks_over_and_a_restart_resumes_them(data_dir):
    server = Server(data_dir)
    arn, database, target_path = long_task(server.client(), data_dir, rows=1_000_000)
    server.process.send_signal(signal.SIGTERM)
    assert server.process.wait(timeout=60) == 0
    restarted = Server(data_dir)
    dms = restarted.client()
    dms.get_waiter("replication_task_stopped").wait(Filters=[{"Name": "replication-task-arn", "Values": [arn]}], WaiterConfig=FAST)
    task = task_of(dms, arn)
    assert task["StopReason"] == "Stop Reason FULL_LOAD_ONLY_FINISHED", task
    messages = [e["Message"] for e in dms.describe_events(SourceType="replication-task", Duration=60)["Events"]]
    assert any("is shutting down: it hands the task over" in m for m in messages), messages
    assert "Ferry stopped while the task was running; it resumes by itself from where it stopped (resume-processing)." in messages
    count = subprocess.run(["python3", "-c", f"import sqlite3; print(sqlite3.connect('{target_path}').execute('SELECT count(*), count(DISTINCT id) FROM events').fetchone())"],
                           capture_output=True, text=True, check=True).stdout.strip()
    assert count == "(1000000, 1000000)"
    restarted.process.terminate()
    restarted.process.wait(timeout=30)
    psql(f"DROP DATABASE {database} WITH (FORCE)", "postgres")


def test_first_start_prints_a_key_once_and_credentials_commands_manage_keys(data_dir):
    server = Server(data_dir, env_keys=False)
    time.sleep(0.2)
    server.process.terminate()
    output = server.process.communicate(timeout=30)[0]
    key = re.search(r"AWS_ACCESS_KEY_ID=(\S+)", output).group(1)
    secret = re.search(r"AWS_SECRET_ACCESS_KEY=(\S+)", output).group(1)

    server = Server(data_dir, env_keys=False)
    assert server.client(key, secret).describe_endpoints()["Endpoints"] == []
    ferry = os.environ["FERRY_BIN"]
    created = subprocess.run([ferry, "credentials", "create", "--data-dir", data_dir], capture_output=True, text=True, check=True).stdout
    new_key = re.search(r"AWS_ACCESS_KEY_ID=(\S+)", created).group(1)
    new_secret = re.search(r"AWS_SECRET_ACCESS_KEY=(\S+)", created).group(1)
    assert server.client(new_key, new_secret).describe_endpoint_types()["SupportedEndpointTypes"]
    listed = subprocess.run([ferry, "credentials", "list", "--data-dir", data_dir], capture_output=True, text=True, check=True).stdout
    assert key in listed and new_key in listed and secret not in listed and new_secret not in listed
    subprocess.run([ferry, "credentials", "delete", new_key, "--data-dir", data_dir], check=True, capture_output=True)
    with pytest.raises(botocore.exceptions.ClientError) as rejected:
        server.client(new_key, new_secret).describe_endpoints()
    assert rejected.value.response["Error"]["Code"] == "UnrecognizedClientException"
    server.process.terminate()
    second_output = server.process.communicate(timeout=30)[0]
    assert "AWS_SECRET_ACCESS_KEY" not in second_output


def test_a_reload_that_a_kill_interrupted_starts_again_after_the_restart(data_dir):
    from test_cdc_crash import pg_url
    from test_task_defaults import Pair

    server = Server(data_dir)
    pair = Pair(server.client(), "CREATE TABLE public.items (id int PRIMARY KEY, note text); "
                                 "INSERT INTO public.items SELECT g, md5(g::text) FROM generate_series(1, 400000) g")
    try:
        arn = pair.run("reload-kill", "full-load-and-cdc", wait=False)["ReplicationTaskArn"]
        table = lambda: pair.tables(arn).get("items", {})
        wait_for = lambda condition, what: next((True for _ in range(2400) if condition() or time.sleep(0.05)), None) or pytest.fail(what)
        wait_for(lambda: table().get("TableState") == "Table completed" and task_of(server.client(), arn)["Status"] == "running", "the load")
        time.sleep(2)
        server.client().reload_tables(ReplicationTaskArn=arn, TablesToReload=[{"SchemaName": "public", "TableName": "items"}])
        def copying():
            """The reload dropped the target table and copies it again: it holds fewer rows than the source (or is gone)."""
            try:
                return int(psql("SELECT count(*) FROM public.items", pair.target_db)) < 400000
            except subprocess.CalledProcessError:
                return True
        # Watched on the target itself: the statistics, written each second, can miss a reload that quick.
        wait_for(copying, "the reload to start")
        server.process.send_signal(signal.SIGKILL)
        server.process.wait()
        server = Server(data_dir)
        pair.dms = server.client()
        wait_for(lambda: any("did not finish before the task stopped; it starts again" in m for m in pair.events({"ReplicationTaskIdentifier": f"reload-kill-{pair.suffix}"})),
                 "the reload to start again")
        wait_for(lambda: table().get("TableState") == "Table completed" and table().get("FullLoadRows") == 400000, "the reload to finish")
        assert psql("SELECT count(*) FROM public.items", pair.target_db) == "400000"
        verdict = subprocess.run([os.environ["FERRY_BIN"], "validate", "--source", pg_url(pair.source_db), "--target", pg_url(pair.target_db)],
                                 capture_output=True, text=True)
        assert verdict.returncode == 0, verdict.stdout + verdict.stderr
    finally:
        pair.close()
        server.process.terminate()
        server.process.wait(timeout=30)
