"""Tasks created through the DMS API without ReplicationTaskSettings behave as `ferry migrate` without
--task-settings: DMS's defaults are shown, not applied, where they would cut, skip or split data (a LOB
limit, DataErrorPolicy, CommitRate); a task that sets one of them gets DMS's behaviour. PostgreSQL to
PostgreSQL, through boto3 against a real `ferry serve`."""
import json
import os
import time
import uuid

import pytest

from test_dms_api import FAST, client, psql, server, server_endpoint  # noqa: F401 (server is a fixture)

MAPPINGS = json.dumps({"rules": [{"rule-type": "selection", "rule-id": "1", "rule-name": "public",
                                  "object-locator": {"schema-name": "public", "table-name": "%"}, "rule-action": "include"}]})


class Pair:
    """A source and a target database on the test server, their endpoints and an instance."""

    def __init__(self, dms, source_sql, suffix=None, server=None, target_server=None):
        """`server` (host, port) is where the nodes reach the test server, when not at its loopback URL;
        `target_server`, where they reach it for the target, when that differs."""
        self.dms = dms
        self.suffix = suffix or uuid.uuid4().hex[:8]
        self.source_db, self.target_db = f"defaults_src_{self.suffix}", f"defaults_dst_{self.suffix}"
        psql(f"CREATE DATABASE {self.source_db}", "postgres")
        psql(f"CREATE DATABASE {self.target_db}", "postgres")
        psql(source_sql, self.source_db)
        def url(at):
            return os.environ["FERRY_TEST_POSTGRES_URL"] if at is None else f"postgres://postgres@{at[0]}:{at[1]}/postgres"
        self.source = dms.create_endpoint(**server_endpoint(url(server), f"src-{self.suffix}", "source", self.source_db))["Endpoint"]
        self.target = dms.create_endpoint(**server_endpoint(url(target_server or server), f"dst-{self.suffix}", "target", self.target_db))["Endpoint"]
        self.instance = dms.create_replication_instance(ReplicationInstanceIdentifier=f"ri-{self.suffix}",
                                                        ReplicationInstanceClass="dms.t3.medium")["ReplicationInstance"]
        self.tasks = []

    def run(self, name, migration_type="full-load", settings=None, wait=True, mappings=MAPPINGS):
        """Creates and starts a task; with `wait`, returns once it has stopped."""
        args = dict(ReplicationTaskIdentifier=f"{name}-{self.suffix}", SourceEndpointArn=self.source["EndpointArn"],
                    TargetEndpointArn=self.target["EndpointArn"], ReplicationInstanceArn=self.instance["ReplicationInstanceArn"],
                    MigrationType=migration_type, TableMappings=mappings)
        if settings is not None:
            args["ReplicationTaskSettings"] = json.dumps(settings)
        task = self.dms.create_replication_task(**args)["ReplicationTask"]
        arn = task["ReplicationTaskArn"]
        self.tasks.append(arn)
        by_arn = [{"Name": "replication-task-arn", "Values": [arn]}]
        self.dms.get_waiter("replication_task_ready").wait(Filters=by_arn, WaiterConfig=FAST)
        self.dms.start_replication_task(ReplicationTaskArn=arn, StartReplicationTaskType="start-replication")
        if wait:
            time.sleep(0.2)
            self.dms.get_waiter("replication_task_stopped").wait(Filters=by_arn, WaiterConfig=FAST)
        return task

    def tables(self, arn):
        return {t["TableName"]: t for t in self.dms.describe_table_statistics(ReplicationTaskArn=arn)["TableStatistics"]}

    def events(self, task):
        return [e["Message"] for e in self.dms.describe_events(SourceIdentifier=task["ReplicationTaskIdentifier"],
                                                               SourceType="replication-task")["Events"]]

    def on_target(self, sql):
        return psql(sql, self.target_db)

    def close(self):
        for arn in self.tasks:
            try:
                self.dms.stop_replication_task(ReplicationTaskArn=arn)
                self.dms.get_waiter("replication_task_stopped").wait(
                    Filters=[{"Name": "replication-task-arn", "Values": [arn]}], WaiterConfig=FAST)
            except self.dms.exceptions.InvalidResourceStateFault:
                pass
            self.dms.delete_replication_task(ReplicationTaskArn=arn)
        psql(f"DROP DATABASE {self.source_db} WITH (FORCE)", "postgres")
        psql(f"DROP DATABASE {self.target_db} WITH (FORCE)", "postgres")


def wait_for(condition, what, seconds=120):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


LOBS = ("CREATE TABLE public.docs (id int PRIMARY KEY, body text, data bytea); "
        "INSERT INTO public.docs SELECT g, repeat(chr(97 + g % 26), 100000), "
        "decode(repeat(lpad(to_hex(g), 2, '0'), 50000), 'hex') FROM generate_series(1, 20) g")


def test_a_task_without_settings_copies_every_lob_whole_in_the_load_and_in_cdc(server):
    dms = client(server)
    pair = Pair(dms, LOBS)
    try:
        task = pair.run("whole", "full-load-and-cdc", wait=False)
        shown = json.loads(task["ReplicationTaskSettings"])
        assert shown["TargetMetadata"]["LobMaxSize"] == 32 and shown["ErrorBehavior"]["DataErrorPolicy"] == "LOG_ERROR"
        wait_for(lambda: pair.tables(task["ReplicationTaskArn"]).get("docs", {}).get("TableState") == "Table completed", "the load")
        psql("INSERT INTO public.docs VALUES (21, repeat('z', 100000), decode(repeat('ab', 50000), 'hex'))", pair.source_db)
        wait_for(lambda: pair.on_target("SELECT count(*) FROM public.docs") == "21", "the change")
        assert pair.on_target("SELECT min(length(body)), max(length(body)), min(octet_length(data)), max(octet_length(data)) "
                           "FROM public.docs") == "100000|100000|50000|50000"
        assert pair.on_target("SELECT md5(string_agg(body || encode(data, 'hex'), ',' ORDER BY id)) FROM public.docs") == \
            psql("SELECT md5(string_agg(body || encode(data, 'hex'), ',' ORDER BY id)) FROM public.docs", pair.source_db)
        assert not any("LOB limit" in m for m in pair.events(task))

        # A task that sets the limit gets DMS's behaviour: cut to 32 KB, counted, told.
        limited = pair.run("limited", settings={"TargetMetadata": {"LobMaxSize": 32}})
        assert pair.on_target("SELECT min(length(body)), max(length(body)) FROM public.docs") == "32768|32768"
        assert any("exceeded the LOB limit of 32 KB" in m for m in pair.events(limited)), pair.events(limited)
    finally:
        pair.close()


CHECKED = ("CREATE TABLE public.readings (id int PRIMARY KEY, value int NOT NULL); "
           "INSERT INTO public.readings SELECT g, g % 90 FROM generate_series(1, 1000) g; UPDATE public.readings SET value = 500 WHERE id = 77")


def test_a_row_the_target_refuses_fails_its_table_unless_the_task_sets_a_data_error_policy(server):
    dms = client(server)
    pair = Pair(dms, CHECKED)
    try:
        pair.on_target("CREATE TABLE public.readings (id int PRIMARY KEY, value int NOT NULL CHECK (value < 100))")
        task = pair.run("strict", settings={"FullLoadSettings": {"TargetTablePrepMode": "DO_NOTHING"}})
        readings = pair.tables(task["ReplicationTaskArn"])["readings"]
        assert readings["TableState"] == "Table error", readings
        assert "readings_value_check" in (readings.get("ValidationStateDetails") or "") + " ".join(pair.events(task))

        pair.on_target("TRUNCATE public.readings")
        logged = pair.run("logged", settings={"FullLoadSettings": {"TargetTablePrepMode": "DO_NOTHING"},
                                              "ErrorBehavior": {"DataErrorPolicy": "LOG_ERROR"}})
        assert pair.tables(logged["ReplicationTaskArn"])["readings"]["TableState"] == "Table completed"
        assert pair.on_target("SELECT count(*), count(*) FILTER (WHERE id = 77) FROM public.readings") == "999|0"
        assert pair.on_target("SELECT count(*) FROM public.awsdms_apply_exceptions WHERE \"TABLE_NAME\" = 'readings'") == "1"
    finally:
        pair.close()


def commits(database):
    """The database's committed transactions so far, once the statistics of closed sessions have settled."""
    last = None
    for _ in range(20):
        now = psql(f"SELECT xact_commit FROM pg_stat_database WHERE datname = '{database}'", "postgres")
        if now == last:
            return int(now)
        last = now
        time.sleep(0.3)
    return int(last)


def test_a_task_without_commit_rate_loads_a_chunk_in_one_copy_and_one_with_it_commits_every_n_rows(server):
    dms = client(server)
    pair = Pair(dms, "CREATE TABLE public.big (id int PRIMARY KEY, v text); "
                     "INSERT INTO public.big SELECT g, md5(g::text) FROM generate_series(1, 200000) g")
    try:
        def load(name, settings):
            before = commits(pair.target_db)
            task = pair.run(name, settings=settings)
            assert pair.tables(task["ReplicationTaskArn"])["big"]["FullLoadRows"] == 200000
            return commits(pair.target_db) - before
        whole = load("whole", None)
        split = load("split", {"FullLoadSettings": {"CommitRate": 10000}})
        # DMS's default, written by the user, cuts 200,000 rows (one chunk) into 20 transactions: 19 commits
        # more than one COPY and the same statements around it; a few to spare for autovacuum's.
        assert split - whole >= 15, (whole, split)
    finally:
        pair.close()
