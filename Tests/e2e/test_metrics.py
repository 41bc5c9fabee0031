"""`GET /metrics` in Prometheus's text format, scraped over a real socket: from `ferry serve` while a
PostgreSQL→PostgreSQL task loads and streams changes, with a bearer token when FERRY_METRICS_TOKEN is set,
and from `ferry migrate --metrics-listen`."""
import os
import re
import signal
import subprocess
import tempfile
import urllib.error
import urllib.request
import uuid

from test_api_cutover import Migration
from test_cdc_crash import pg_url
from test_dms_api import client, free_port, psql, server  # noqa: F401
from test_task_defaults import wait_for

SAMPLE = re.compile(r'^([a-z_]+)(\{.*\})? (\S+)$')


def scrape(url, token=None):
    request = urllib.request.Request(url + "/metrics", headers={"Authorization": f"Bearer {token}"} if token else {})
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
        return response.read().decode()


def samples(text):
    """Every sample line as (name, {label: value}) -> value; also checks each line is well-formed."""
    found = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        match = SAMPLE.match(line)
        assert match, f"not a Prometheus sample line: {line!r}"
        labels = dict(re.findall(r'([a-z_]+)="((?:[^"\\]|\\.)*)"', match.group(2) or ""))
        found[(match.group(1), tuple(sorted(labels.items())))] = float(match.group(3))
    return found


def value(found, name, **labels):
    matching = [v for (n, ls), v in found.items() if n == name and all(dict(ls).get(k) == w for k, w in labels.items())]
    return matching[0] if matching else None


def test_a_running_task_is_on_the_servers_metrics(server):
    dms = client(server)
    migration = Migration(dms, rows=500)
    try:
        task = migration.task()
        instance = dms.describe_replication_instances()["ReplicationInstances"]
        instance = next(i for i in instance if i["ReplicationInstanceArn"] == task["ReplicationInstanceArn"])["ReplicationInstanceIdentifier"]
        labels = {"task": migration.name, "replication_instance": instance}
        wait_for(lambda: value(samples(scrape(server["url"])), "ferry_table_rows_loaded_total", table="orders", **labels) == 500, "the load's rows")
        psql("INSERT INTO public.orders (amount, note) SELECT g, 'new' FROM generate_series(1, 40) g; "
             "UPDATE public.orders SET amount = amount + 1 WHERE id <= 10; DELETE FROM public.orders WHERE id > 490 AND id <= 500", migration.source_db)
        wait_for(lambda: value(samples(scrape(server["url"])), "ferry_cdc_changes_applied_total", **labels) == 60, "the changes on the metrics")
        found = samples(scrape(server["url"]))
        assert value(found, "ferry_table_changes_total", table="orders", operation="insert", **labels) == 40
        assert value(found, "ferry_table_changes_total", table="orders", operation="delete", **labels) == 10
        assert value(found, "ferry_task_status", status="running", **labels) == 1
        assert value(found, "ferry_task_status", status="stopped", **labels) == 0
        assert value(found, "ferry_task_info", task_id=task["ReplicationTaskArn"].split(":")[-1], source_engine="postgres", **labels) == 1
        assert value(found, "ferry_cdc_source_latency_seconds", **labels) is not None
        assert value(found, "ferry_cdc_retained_log_bytes", **labels) is not None
        assert value(found, "ferry_full_load_progress_ratio", **labels) == 1
        assert value(found, "ferry_process_resident_memory_bytes") > 1e6
        assert value(found, "ferry_data_directory_free_bytes") > 0

        dms.stop_replication_task(ReplicationTaskArn=migration.arn)
        dms.get_waiter("replication_task_stopped").wait(Filters=[{"Name": "replication-task-arn", "Values": [migration.arn]}],
                                                       WaiterConfig={"Delay": 1, "MaxAttempts": 60})
        assert value(samples(scrape(server["url"])), "ferry_task_status", status="stopped", **labels) == 1
        dms.delete_replication_task(ReplicationTaskArn=migration.arn)
        assert f'task="{migration.name}"' not in scrape(server["url"]), "a deleted task's series go with it"
    finally:
        migration.close()


def test_a_token_guards_the_metrics():
    data_dir = tempfile.mkdtemp(prefix="ferry-metrics-")
    port = free_port()
    env = dict(os.environ, FERRY_ACCESS_KEY_ID="AKIAMETRICS000000001", FERRY_SECRET_ACCESS_KEY="metrics-secret", FERRY_METRICS_TOKEN="scrape-me")
    process = subprocess.Popen([os.environ["FERRY_BIN"], "serve", "--listen", f"127.0.0.1:{port}", "--data-dir", data_dir],
                               env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        def healthy():
            try:
                return urllib.request.urlopen(url + "/health", timeout=1).read() == b"ok"
            except OSError:
                return False
        wait_for(healthy, "the server", 20)
        for token in (None, "wrong"):
            try:
                scrape(url, token)
                raise AssertionError("an unauthenticated scrape was answered")
            except urllib.error.HTTPError as error:
                assert error.code == 401 and error.headers["WWW-Authenticate"] == "Bearer"
        assert "ferry_process_cpu_seconds_total" in scrape(url, "scrape-me")
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_ferry_migrate_serves_its_own_metrics():
    suffix = uuid.uuid4().hex[:8]
    source_db, target_db = f"metrics_src_{suffix}", f"metrics_dst_{suffix}"
    for database in (source_db, target_db):
        psql(f"CREATE DATABASE {database}", "postgres")
    psql("CREATE TABLE public.items (id int PRIMARY KEY, v text); INSERT INTO public.items SELECT g, 'x' FROM generate_series(1, 300) g", source_db)
    port = free_port()
    work = tempfile.mkdtemp(prefix="ferry-metrics-migrate-")
    process = subprocess.Popen([os.environ["FERRY_BIN"], "migrate", "--source", pg_url(source_db), "--target", pg_url(target_db),
                                "--mode", "full-load-and-cdc", "--task", f"items-{suffix}", "--metrics-listen", f"127.0.0.1:{port}"],
                               cwd=work, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}"
    labels = {"task": f"items-{suffix}", "replication_instance": "local"}

    def metric(name, **extra):
        try:
            return value(samples(scrape(url)), name, **labels, **extra)
        except OSError:
            return None
    try:
        wait_for(lambda: metric("ferry_full_load_rows_total") == 300, "the load on migrate's metrics", 60)
        psql("INSERT INTO public.items SELECT g, 'y' FROM generate_series(301, 325) g", source_db)
        wait_for(lambda: metric("ferry_cdc_changes_applied_total") == 25, "the changes on migrate's metrics", 60)
        assert metric("ferry_task_status", status="running") == 1
        assert metric("ferry_task_info", migration_type="full-load-and-cdc", target_engine="postgres") == 1
    finally:
        process.send_signal(signal.SIGINT)
        output = process.communicate(timeout=60)[0]
        for database in (source_db, target_db):
            psql(f"SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE database = '{database}' AND NOT active", "postgres")
            psql(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)", "postgres")
    assert f"metrics on {url}/metrics" in output, output
