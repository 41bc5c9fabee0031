"""Each task's own log on `ferry serve`: JSON lines under the data folder, their sizes through
DescribeReplicationInstanceTaskLogs, `ferry logs` reading and filtering them, and no secret in them."""
import json
import os
import subprocess
import urllib.parse
import uuid

from test_dms_api import ACCESS_KEY, FAST, REGION, SECRET_KEY, client, psql, server  # noqa: F401

# The second rule's wildcard matches nothing: the load ends with a warning about it.
MAPPINGS = json.dumps({"rules": [
    {"rule-type": "selection", "rule-id": "1", "rule-name": "1", "object-locator": {"schema-name": "public", "table-name": "%"}, "rule-action": "include"},
    {"rule-type": "selection", "rule-id": "2", "rule-name": "2", "object-locator": {"schema-name": "archive%", "table-name": "%"}, "rule-action": "include"},
]})

PASSWORD = "Sekrit-pw-" + uuid.uuid4().hex[:8]


def ferry_logs(server, *args):
    env = dict(os.environ, AWS_ACCESS_KEY_ID=ACCESS_KEY, AWS_SECRET_ACCESS_KEY=SECRET_KEY, AWS_REGION=REGION)
    return subprocess.run([os.environ["FERRY_BIN"], "logs", "--endpoint-url", server["url"], *args],
                          capture_output=True, text=True, env=env, timeout=60)


def test_a_task_writes_its_own_log_without_secrets(server):
    dms = client(server)
    suffix = uuid.uuid4().hex[:8]
    source_db, target_db = f"logs_src_{suffix}", f"logs_dst_{suffix}"
    for database in (source_db, target_db):
        psql(f"CREATE DATABASE {database}", "postgres")
    psql("CREATE TABLE public.keyed (id int PRIMARY KEY, v text); INSERT INTO public.keyed SELECT g, 'x' FROM generate_series(1, 50) g; "
         "CREATE TABLE public.loose (v text)", source_db)
    url = urllib.parse.urlparse(os.environ["FERRY_TEST_POSTGRES_URL"])
    endpoint = lambda name, kind, database: dms.create_endpoint(
        EndpointIdentifier=name, EndpointType=kind, EngineName="postgres", ServerName=url.hostname, Port=url.port,
        Username=url.username or "postgres", Password=PASSWORD, DatabaseName=database)["Endpoint"]
    try:
        source, target = endpoint(f"lsrc-{suffix}", "source", source_db), endpoint(f"ldst-{suffix}", "target", target_db)
        instance = dms.create_replication_instance(ReplicationInstanceIdentifier=f"lri-{suffix}", ReplicationInstanceClass="dms.t3.medium")
        instance_arn = instance["ReplicationInstance"]["ReplicationInstanceArn"]
        task = dms.create_replication_task(
            ReplicationTaskIdentifier=f"logged-{suffix}", SourceEndpointArn=source["EndpointArn"], TargetEndpointArn=target["EndpointArn"],
            ReplicationInstanceArn=instance_arn, MigrationType="full-load", TableMappings=MAPPINGS)["ReplicationTask"]
        by_arn = [{"Name": "replication-task-arn", "Values": [task["ReplicationTaskArn"]]}]
        dms.get_waiter("replication_task_ready").wait(Filters=by_arn, WaiterConfig=FAST)
        dms.start_replication_task(ReplicationTaskArn=task["ReplicationTaskArn"], StartReplicationTaskType="start-replication")
        dms.get_waiter("replication_task_stopped").wait(Filters=by_arn, WaiterConfig=FAST)

        result = ferry_logs(server, "--task", task["ReplicationTaskIdentifier"])
        assert result.returncode == 0, result.stderr
        assert "info ferry.tasks Replication task has started." in result.stdout
        assert "ferry.full-load" in result.stdout and "loaded public.keyed" in result.stdout
        assert "Replication task has stopped." in result.stdout
        warnings = ferry_logs(server, "--task", task["ReplicationTaskIdentifier"], "--level", "warning", "--json")
        lines = [json.loads(line) for line in warnings.stdout.splitlines()]
        assert lines and all(line["Level"] in ("warning", "error", "critical") for line in lines)
        assert any("archive%" in line["Message"] for line in lines), warnings.stdout
        filtered = ferry_logs(server, "--task", task["ReplicationTaskArn"], "--filter", "PUBLIC.KEYED")
        assert filtered.stdout.strip() and all("public.keyed" in line for line in filtered.stdout.splitlines())
        assert "[public.keyed]" in filtered.stdout, "the line about a table names it"
        bad = ferry_logs(server, "--task", task["ReplicationTaskIdentifier"], "--level", "loud")
        assert bad.returncode == 2 and "MinimumLevel" in bad.stderr

        sizes = dms.describe_replication_instance_task_logs(ReplicationInstanceArn=instance_arn)["ReplicationInstanceTaskLogs"]
        assert sizes[0]["ReplicationTaskName"] == task["ReplicationTaskIdentifier"] and sizes[0]["ReplicationInstanceTaskLogSize"] > 0
        folder = os.path.join(server["data_dir"], "task-logs", task["ReplicationTaskIdentifier"])
        with open(os.path.join(folder, "task.log")) as log:
            first = json.loads(log.readline())
        assert set(first) >= {"sequence", "time", "level", "component", "message"}
        for root, _, files in os.walk(server["data_dir"]):
            for name in files:
                with open(os.path.join(root, name), "rb") as data:
                    assert PASSWORD.encode() not in data.read(), f"the endpoint password is in {name}"
        dms.delete_replication_task(ReplicationTaskArn=task["ReplicationTaskArn"])
        dms.get_waiter("replication_task_deleted").wait(Filters=by_arn, WaiterConfig=FAST)
        assert not os.path.exists(folder), "a deleted task's log goes with it"
    finally:
        for database in (source_db, target_db):
            psql(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)", "postgres")
