"""Several `ferry serve` nodes on one PostgreSQL catalog: a task moves when its node is killed, paused past
its lease or shut down, and the target's apply-status row shows that no stale run committed."""
import json
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import urllib.parse
import urllib.request
import uuid

import boto3

from test_api_cutover import ferry_call
from test_cdc_crash import pg_url, writer
from test_dms_api import free_port, psql
from test_task_defaults import Pair

REGION = "us-west-2"
KEY, SECRET = "AKIACLUSTER000000001", "cluster-secret"


class Node:
    """One `ferry serve --catalog postgres://…` process; its output goes to a file (a pipe nobody reads fills)."""

    def __init__(self, name, data_dir, catalog_url, port=None, host="127.0.0.1", prefix=()):
        """`prefix` runs the server through another command (`ip netns exec NS`, which execs it: the PID is the server's)."""
        self.name, self.data_dir, self.catalog_url, self.host, self.prefix = name, data_dir, catalog_url, host, prefix
        self.port = port or free_port()
        self.url = f"http://{host}:{self.port}"
        self.log = open(os.path.join(data_dir, f"serve-{time.time_ns()}.log"), "w")
        env = dict(os.environ, FERRY_ACCESS_KEY_ID=KEY, FERRY_SECRET_ACCESS_KEY=SECRET)
        # A node in a namespace listens on its own address, which other machines could reach: plain HTTP there is asked for.
        exposed = [] if host.startswith("127.") else ["--insecure-listen"]
        self.process = subprocess.Popen([*prefix, os.environ["FERRY_BIN"], "serve", "--listen", f"{host}:{self.port}", "--data-dir", data_dir,
                                         "--catalog", catalog_url, "--node-id", name, *exposed], env=env, stdout=self.log, stderr=subprocess.STDOUT)
        for _ in range(300):
            try:
                if urllib.request.urlopen(self.url + "/health", timeout=1).read() == b"ok":
                    return
            except OSError:
                if self.process.poll() is not None:
                    break
                time.sleep(0.05)
        self.process.kill()
        raise RuntimeError(f"node {name} did not start: {open(self.log.name).read()}")

    def client(self):
        return boto3.client("dms", endpoint_url=self.url, region_name=REGION, aws_access_key_id=KEY, aws_secret_access_key=SECRET)

    def restart(self):
        return Node(self.name, self.data_dir, self.catalog_url, self.port, self.host, self.prefix)

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGCONT)
            self.process.terminate()
            self.process.wait(timeout=60)
        self.log.close()


def wait_for(condition, what, seconds=90):
    deadline = time.time() + seconds
    while time.time() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out after {seconds} s waiting for {what}")


def nodes_of(node):
    """DescribeNodes (Ferry's own operation) from `node`: every node in the catalog, by name."""
    answer = ferry_call(node.url, "DescribeNodes", {}, key=KEY, secret=SECRET)
    return {n["NodeName"]: n for n in answer["Nodes"]}


class Cluster:
    def __init__(self):
        self.root = tempfile.mkdtemp(prefix="ferry-cluster-")
        self.database = f"catalog_{uuid.uuid4().hex[:8]}"
        psql(f"CREATE DATABASE {self.database}", "postgres")
        url = urllib.parse.urlparse(os.environ["FERRY_TEST_POSTGRES_URL"])
        self.catalog_url = url._replace(path="/" + self.database).geturl()
        self.nodes = {}

    def start(self, name, catalog_url=None, **where):
        """Starts node `name` with the first node's secret key; `catalog_url` and `where` (host, port, prefix) as Node takes them."""
        folder = os.path.join(self.root, name)
        os.makedirs(folder, exist_ok=True)
        first = next(iter(self.nodes.values()), None)
        key = os.path.join(folder, "secret.key")
        if first and not os.path.exists(key):
            shutil.copy(os.path.join(first.data_dir, "secret.key"), key)
        self.nodes[name] = Node(name, folder, catalog_url or self.catalog_url, **where)
        return self.nodes[name]

    def close(self):
        for node in self.nodes.values():
            node.stop()
        psql(f"DROP DATABASE {self.database} WITH (FORCE)", "postgres")
        shutil.rmtree(self.root, ignore_errors=True)


class Writer:
    """test_cdc_crash's writer on a thread of its own: inserts, updates, key changes and deletes until stopped."""

    def __init__(self, database):
        self.stopping, self.written = threading.Event(), [0]
        self.thread = threading.Thread(target=writer, args=(database, self.stopping, self.written))

    def start(self):
        self.thread.start()

    def stop(self):
        self.stopping.set()
        if self.thread.is_alive():
            self.thread.join()


def wait_until_equal(pair, seconds=90):
    """Waits for `ferry validate` to find the pair's target equal to its source."""
    validate = [os.environ["FERRY_BIN"], "validate", "--source", pg_url(pair.source_db), "--target", pg_url(pair.target_db)]
    wait_for(lambda: subprocess.run(validate, capture_output=True, text=True).returncode == 0, "the target to equal the source", seconds=seconds)


def moved_events(dms, task):
    return [e["Message"] for e in dms.describe_events(SourceIdentifier=task["ReplicationTaskIdentifier"], SourceType="replication-task",
                                                      Duration=60)["Events"] if "moved from node" in e["Message"]]


def install_checker(target_db):
    """A trigger recording every write to the task's apply-status row, in commit order of the row's lock."""
    psql("CREATE TABLE apply_history (id bigserial PRIMARY KEY, epoch bigint, position text, at timestamptz DEFAULT clock_timestamp()); "
         "CREATE FUNCTION record_apply() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
         "INSERT INTO apply_history (epoch, position) VALUES (NEW.epoch, NEW.source_position); RETURN NEW; END $$; "
         "CREATE TRIGGER record_apply AFTER INSERT OR UPDATE ON public.ferry_apply_status FOR EACH ROW EXECUTE FUNCTION record_apply()",
         target_db)


def check_history(target_db):
    rows = [line.split("|") for line in psql("SELECT epoch, position FROM apply_history ORDER BY id", target_db).splitlines()]
    epochs = [int(epoch) for epoch, _ in rows]
    assert epochs == sorted(epochs), f"an epoch went backwards: {epochs}"
    positions = [psql(f"SELECT '{p}'::pg_lsn - '0/0'::pg_lsn", target_db) for _, p in rows[:: max(1, len(rows) // 50)] if p]
    assert [int(p) for p in positions] == sorted(int(p) for p in positions), "the stored position went backwards"
    return len(set(epochs))


def test_a_task_moves_when_its_node_is_killed_paused_shut_down_or_failed_over_and_nothing_is_lost():
    cluster = Cluster()
    a = cluster.start("a")
    b = cluster.start("b")
    pair = Pair(a.client(), "CREATE TABLE public.items (id int PRIMARY KEY, counter int NOT NULL, note text); "
                            "INSERT INTO public.items SELECT g, 0, md5(g::text) FROM generate_series(1, 20000) g")
    load = Writer(pair.source_db)
    timings = {}
    try:
        task = pair.run("moving", "full-load-and-cdc", wait=False)
        arn = task["ReplicationTaskArn"]
        dms = b.client()
        wait_for(lambda: pair.tables(arn).get("items", {}).get("TableState") == "Table completed", "the full load")
        install_checker(pair.target_db)
        load.start()
        wait_for(lambda: load.written[0] > 20 and pair.tables(arn)["items"].get("Inserts", 0) > 0, "changes to stream")
        nodes = nodes_of(b)
        assert set(nodes) == {"a", "b"} and nodes["a"]["RunningTasks"] == 1 and nodes["b"]["RunningTasks"] == 0, nodes

        def applied():
            return int(psql("SELECT count(*) FROM public.items WHERE note = 'new' OR id > 2000000", pair.target_db))

        # kill -9 of the node running the task: the other node takes it once the lease runs out.
        a.process.send_signal(signal.SIGKILL)
        a.process.wait()
        killed, before = time.time(), applied()
        wait_for(lambda: moved_events(dms, task), "the task to move to b", seconds=60)
        wait_for(lambda: applied() > before, "b to apply changes", seconds=60)
        timings["kill -9"] = time.time() - killed
        assert moved_events(dms, task)[-1].startswith("Replication task moved from node a to node b")

        # A node paused past its lease: the other node takes over; the paused one, woken, gives the task up.
        a = cluster.nodes["a"] = cluster.nodes["a"].restart()
        b.process.send_signal(signal.SIGSTOP)
        paused, before = time.time(), applied()
        wait_for(lambda: len(moved_events(a.client(), task)) >= 2, "the task to move to a", seconds=60)
        wait_for(lambda: applied() > before, "a to apply changes", seconds=60)
        timings["SIGSTOP"] = time.time() - paused
        b.process.send_signal(signal.SIGCONT)
        time.sleep(4)
        nodes = nodes_of(a)
        assert nodes["a"]["RunningTasks"] == 1 and nodes["b"]["RunningTasks"] == 0, nodes
        assert b.process.poll() is None, "the paused node keeps serving after it gave its task up"

        # A planned drain: SIGTERM hands the task to the other node at once.
        a.process.terminate()
        drained, before = time.time(), applied()
        assert a.process.wait(timeout=60) == 0
        wait_for(lambda: applied() > before, "b to apply changes after the drain", seconds=60)
        timings["drain"] = time.time() - drained

        # RebootReplicationInstance --force-failover: the instance's task moves to the other node, as in DMS's Multi-AZ.
        a = cluster.nodes["a"] = cluster.nodes["a"].restart()
        wait_for(lambda: nodes_of(a)["a"]["LeaseSecondsLeft"] > 0, "a to rejoin")
        failed_over, before = time.time(), applied()
        rebooted = a.client().reboot_replication_instance(ReplicationInstanceArn=pair.instance["ReplicationInstanceArn"], ForceFailover=True)
        assert rebooted["ReplicationInstance"]["ReplicationInstanceStatus"] == "rebooting"
        wait_for(lambda: nodes_of(a)["a"]["RunningTasks"] == 1 and applied() > before, "the failover to a", seconds=60)
        timings["force-failover"] = time.time() - failed_over
        assert moved_events(dms, task)[-1].startswith("Replication task moved from node b to node a")

        load.stop()
        assert load.written[0] > 50
        wait_until_equal(pair)
        epochs = check_history(pair.target_db)
        assert epochs >= 4, "every move raised the target's epoch"
        print(f"failover seconds: {timings}")
        assert timings["kill -9"] < 45 and timings["SIGSTOP"] < 60 and timings["drain"] < 15 and timings["force-failover"] < 15, timings
        pair.dms = a.client()
    finally:
        load.stop()
        try:
            pair.close()
        finally:
            cluster.close()


def items_by_ranges(boundaries):
    """Table mappings that select every table of public and load public.items by ranges of id."""
    return json.dumps({"rules": [
        {"rule-type": "selection", "rule-id": "1", "rule-name": "public", "rule-action": "include",
         "object-locator": {"schema-name": "public", "table-name": "%"}},
        {"rule-type": "table-settings", "rule-id": "2", "rule-name": "ranges", "object-locator": {"schema-name": "public", "table-name": "items"},
         "parallel-load": {"type": "ranges", "columns": ["id"], "boundaries": boundaries}}]})


def test_a_full_load_whose_node_is_killed_resumes_on_another_node_by_chunk():
    """Five key ranges loaded one at a time; the node is killed after two finished. The other node keeps the
    target table and its finished ranges (a row changed since in one of them keeps its loaded value) and
    loads the rest (a row changed in one of those has its new value). The other node starts after the kill, so
    that it loads no range while the first node runs the task."""
    cluster = Cluster()
    a = cluster.start("a")
    pair = Pair(a.client(), "CREATE TABLE public.items (id int PRIMARY KEY, note text); "
                            "INSERT INTO public.items SELECT g, md5(g::text) FROM generate_series(1, 400000) g")
    try:
        mappings = items_by_ranges([["100001"], ["200001"], ["300001"]])
        task = pair.run("chunks", settings={"FullLoadSettings": {"MaxFullLoadSubTasks": 1, "CommitRate": 500}}, wait=False, mappings=mappings)
        arn = task["ReplicationTaskArn"]

        def chunks_done():
            return int(psql("SELECT count(*) FROM public.ferry_load_progress WHERE chunk_index >= 0", pair.target_db) or 0)

        wait_for(lambda: chunks_done() >= 2, "two ranges to load", seconds=60)
        a.process.send_signal(signal.SIGKILL)
        a.process.wait()
        b = cluster.start("b")
        table = psql("SELECT 'public.items'::regclass::oid", pair.target_db)
        psql("UPDATE public.items SET note = 'changed' WHERE id IN (1, 400000)", pair.source_db)
        by_arn = [{"Name": "replication-task-arn", "Values": [arn]}]
        dms = b.client()

        def ended():
            # A move passes through "stopped" (RECOVERABLE_ERROR) for a moment before the new node starts the task.
            found = dms.describe_replication_tasks(Filters=by_arn)["ReplicationTasks"][0]
            return found if found["Status"] in ("stopped", "failed") and found.get("StopReason") != "Stop Reason RECOVERABLE_ERROR" else None
        done = wait_for(ended, "the load to finish on b", seconds=120)
        assert done["StopReason"] == "Stop Reason FULL_LOAD_ONLY_FINISHED", done
        assert moved_events(dms, task)[-1].startswith("Replication task moved from node a to node b")
        assert psql("SELECT count(*), count(DISTINCT id) FROM public.items", pair.target_db) == "400000|400000"
        assert psql("SELECT 'public.items'::regclass::oid", pair.target_db) == table, "the target table was kept"
        notes = psql("SELECT note FROM public.items WHERE id IN (1, 400000) ORDER BY id", pair.target_db).splitlines()
        assert notes[0] != "changed", "a range that had finished was not loaded again"
        assert notes[1] == "changed", "a range that had not finished was loaded again"
        pair.dms = dms
    finally:
        try:
            pair.close()
        finally:
            cluster.close()


def test_a_tables_chunks_load_on_three_nodes_and_a_helper_killed_mid_chunk_loses_nothing():
    """Seven key ranges of one table (six and the NULL one), and three nodes: the node running the task offers the
    ranges in the catalog, the other two take some and load them under the task's claim. One of them is killed
    while it loads; once its lease runs out, the task's node loads its ranges again, after emptying them. Every row
    arrives once. A statement trigger on the target slows each commit, so that a range takes seconds."""
    cluster = Cluster()
    nodes = {name: cluster.start(name) for name in ("a", "b", "c")}
    pair = Pair(nodes["a"].client(), "CREATE TABLE public.items (id int PRIMARY KEY, note text); "
                                     "INSERT INTO public.items SELECT g, md5(g::text) FROM generate_series(1, 600000) g")
    try:
        psql("CREATE TABLE public.items (id int PRIMARY KEY, note text); "
             "CREATE FUNCTION slow() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_sleep(0.02); RETURN NULL; END $$; "
             "CREATE TRIGGER slow AFTER INSERT ON public.items FOR EACH STATEMENT EXECUTE FUNCTION slow()", pair.target_db)
        mappings = items_by_ranges([[str(100000 * i + 1)] for i in range(1, 6)])
        settings = {"FullLoadSettings": {"CommitRate": 500, "TargetTablePrepMode": "TRUNCATE_BEFORE_LOAD"}}
        task = pair.run("spread", settings=settings, wait=False, mappings=mappings)
        arn = task["ReplicationTaskArn"]
        seen = {}

        def chunks():
            """The board's rows now, also kept in `seen`: (node, chunk) → (rows loaded, '' while loading; times taken)."""
            rows = [line.split("|") for line in psql("SELECT node_id, chunk, coalesce(rows_loaded::text, ''), taken FROM load_chunks "
                                                     "WHERE node_id IS NOT NULL", cluster.database).splitlines() if line]
            seen.update({(node, chunk): (loaded, int(taken)) for node, chunk, loaded, taken in rows})
            return rows

        owner = wait_for(lambda: psql("SELECT node_id FROM task_claims", cluster.database), "a node to run the task")
        victim, survivor = [name for name in nodes if name != owner]
        wait_for(lambda: any(node == victim and loaded == "" for node, _, loaded, _ in chunks()), f"node {victim} to load a range", seconds=60)
        time.sleep(0.5)
        nodes[victim].process.send_signal(signal.SIGKILL)
        nodes[victim].process.wait()
        by_arn = [{"Name": "replication-task-arn", "Values": [arn]}]
        dms = nodes[owner].client()

        def stopped():
            chunks()
            return dms.describe_replication_tasks(Filters=by_arn)["ReplicationTasks"][0]["Status"] == "stopped"
        wait_for(stopped, "the load to finish", seconds=120)
        done = dms.describe_replication_tasks(Filters=by_arn)["ReplicationTasks"][0]
        assert done["StopReason"] == "Stop Reason FULL_LOAD_ONLY_FINISHED", done
        assert not moved_events(dms, task), "the task stayed on its node"
        assert psql("SELECT count(*), count(DISTINCT id), sum(length(note)) FROM public.items", pair.target_db) == f"600000|600000|{600000 * 32}"
        assert any(node == survivor and loaded not in ("", "0") for (node, _), (loaded, _) in seen.items()), seen
        # The killed node's range was taken again, by the task's node or the other one, which emptied it first.
        assert any(taken > 1 and node != victim for (node, _), (_, taken) in seen.items()), seen
        assert any("this node empties its range and loads it again" in open(nodes[name].log.name).read() for name in (owner, survivor))
        table = pair.tables(arn)["items"]
        assert table["FullLoadRows"] == 600000 and table["TableState"] == "Table completed", table
        assert psql("SELECT count(*) FROM public.ferry_load_progress WHERE chunk_index >= 0", pair.target_db) == "7"
        assert psql("SELECT count(*) FROM load_chunks", cluster.database) == "0", "the offer ended with the load"
        pair.dms = dms
    finally:
        try:
            pair.close()
        finally:
            cluster.close()


class CatalogServer:
    """A PostgreSQL server of its own for the catalog, so that it can restart without the source and target."""

    def __init__(self):
        self.folder = tempfile.mkdtemp(prefix="ferry-catalog-pg-")
        self.port = free_port()
        self.pg_ctl = os.path.join(self.bin(), "pg_ctl")
        os.chmod(self.folder, 0o777)
        self.run(f"{os.path.join(os.path.dirname(self.pg_ctl), 'initdb')} -D {self.folder}/data -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 -N")
        self.start()
        self.url = f"postgres://postgres@127.0.0.1:{self.port}/postgres"

    @staticmethod
    def bin():
        """The newest installed PostgreSQL's programs, as scripts/databases.sh picks them."""
        versions = sorted((v for v in os.listdir("/usr/lib/postgresql") if os.path.isdir(f"/usr/lib/postgresql/{v}/bin")), key=int)
        return f"/usr/lib/postgresql/{versions[-1]}/bin"

    def run(self, command):
        if os.geteuid() == 0:
            subprocess.run(["su", "postgres", "-c", command], check=True, capture_output=True)
        else:
            subprocess.run(command, shell=True, check=True, capture_output=True)

    def start(self):
        self.run(f"{self.pg_ctl} -D {self.folder}/data -l {self.folder}/server.log -w -o '-c listen_addresses=127.0.0.1 -p {self.port} -k {self.folder} -c fsync=off' start")

    def stop(self):
        self.run(f"{self.pg_ctl} -D {self.folder}/data -m fast -w stop")

    def close(self):
        try:
            self.stop()
        except subprocess.CalledProcessError:
            pass
        shutil.rmtree(self.folder, ignore_errors=True)


def test_the_catalog_restarting_or_away_past_the_lease_loses_nothing_and_the_task_resumes():
    server = CatalogServer()
    cluster = Cluster.__new__(Cluster)
    cluster.root, cluster.database, cluster.nodes = tempfile.mkdtemp(prefix="ferry-cluster-"), None, {}
    cluster.catalog_url = server.url
    load, pair = None, None
    try:
        a = cluster.start("a")
        b = cluster.start("b")
        pair = Pair(a.client(), "CREATE TABLE public.items (id int PRIMARY KEY, counter int NOT NULL, note text); "
                                "INSERT INTO public.items SELECT g, 0, md5(g::text) FROM generate_series(1, 5000) g")
        load = Writer(pair.source_db)
        task = pair.run("catalog-away", "full-load-and-cdc", wait=False)
        arn = task["ReplicationTaskArn"]
        wait_for(lambda: pair.tables(arn).get("items", {}).get("TableState") == "Table completed", "the full load")
        install_checker(pair.target_db)
        load.start()

        def applied():
            return int(psql("SELECT count(*) FROM public.items WHERE note = 'new' OR id > 2000000", pair.target_db))

        def epoch():
            return int(psql("SELECT epoch FROM public.ferry_apply_status", pair.target_db))

        wait_for(lambda: applied() > 0, "changes to stream")
        # A quick restart: the nodes connect again at their next statement; the task stays where it runs.
        first_epoch = epoch()
        server.stop()
        server.start()
        time.sleep(5)
        before = applied()
        wait_for(lambda: applied() > before, "changes to go on after the catalog restarted")
        assert epoch() == first_epoch, "a restart shorter than the lease moves nothing"

        # Away past the lease: the node running the task stops it after 7 s; when the catalog is back, a node
        # takes it again and it resumes from the target's position.
        server.stop()
        time.sleep(12)
        stalled = applied()
        time.sleep(2)
        assert applied() == stalled, "no node applies while none can renew its lease"
        server.start()
        wait_for(lambda: applied() > stalled and epoch() > first_epoch, "the task to resume once the catalog is back", seconds=60)
        load.stop()
        wait_until_equal(pair)
        check_history(pair.target_db)
    finally:
        if load:
            load.stop()
        try:
            if pair:
                pair.dms = cluster.nodes["a"].client()
                pair.close()
        finally:
            for node in cluster.nodes.values():
                node.stop()
            shutil.rmtree(cluster.root, ignore_errors=True)
            server.close()


def test_nodes_share_credentials_and_a_node_with_another_secret_key_is_refused():
    cluster = Cluster()
    try:
        a = cluster.start("a")
        made = subprocess.run([os.environ["FERRY_BIN"], "credentials", "create", "--data-dir", a.data_dir, "--catalog", cluster.catalog_url],
                              capture_output=True, text=True, check=True).stdout
        pair = dict(line.split("=", 1) for line in made.split())
        b = cluster.start("b")
        shared = boto3.client("dms", endpoint_url=b.url, region_name=REGION, aws_access_key_id=pair["AWS_ACCESS_KEY_ID"],
                              aws_secret_access_key=pair["AWS_SECRET_ACCESS_KEY"])
        assert shared.describe_endpoints()["Endpoints"] == [], "a key made on one node signs requests to another"

        stranger = os.path.join(cluster.root, "stranger")
        os.makedirs(stranger)
        with open(os.path.join(stranger, "secret.key"), "wb") as key:
            key.write(os.urandom(32))
        refused = subprocess.run([os.environ["FERRY_BIN"], "serve", "--listen", f"127.0.0.1:{free_port()}", "--data-dir", stranger,
                                  "--catalog", cluster.catalog_url, "--node-id", "stranger"], capture_output=True, text=True, timeout=60)
        assert refused.returncode != 0
        assert "every server of a cluster needs the same secret.key" in refused.stdout + refused.stderr, refused.stdout + refused.stderr
    finally:
        cluster.close()
