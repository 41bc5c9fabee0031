"""A MariaDB source fails over: a replica of it (a second mariadbd with log_slave_updates, so its binlog carries
the primary's GTIDs under file names and offsets of its own) is promoted, and the task's source endpoint is
pointed at it. The task resumes by GTID on the new server: it applies what the replica received before its
promotion and what is written to it after, loses and repeats nothing, and records the change of server in an
event. The shared test MariaDB plays the old primary and keeps running."""
import getpass
import json
import os
import shutil
import subprocess
import tempfile
import time
import urllib.parse
import uuid

from test_dms_api import FAST, client, free_port, mariadb, psql, server, server_endpoint  # noqa: F401 (server is a fixture)


class Replica:
    """A second mariadbd on loopback, replicating everything the test MariaDB writes from now on, by GTID."""

    def __init__(self):
        self.folder = tempfile.mkdtemp(prefix="ferry-replica-")
        self.port = free_port()
        data = os.path.join(self.folder, "data")
        subprocess.run(["mariadb-install-db", "--no-defaults", f"--user={getpass.getuser()}", f"--datadir={data}",
                        "--auth-root-authentication-method=normal", "--skip-test-db"], check=True, capture_output=True)
        self.process = subprocess.Popen(
            ["mariadbd", "--no-defaults", f"--user={getpass.getuser()}", f"--datadir={data}", f"--socket={self.folder}/mysqld.sock",
             f"--pid-file={self.folder}/mysqld.pid", "--bind-address=127.0.0.1", f"--port={self.port}", "--server-id=2",
             f"--log-bin={data}/replica-bin", "--log-slave-updates", "--binlog-format=ROW", "--binlog-row-image=FULL",
             "--binlog-row-metadata=FULL", "--innodb-buffer-pool-size=64M", f"--log-error={self.folder}/error.log"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(150):
            if subprocess.run(["mariadb-admin", "--protocol=tcp", "-h", "127.0.0.1", "-P", str(self.port), "-u", "root", "ping"],
                              capture_output=True).returncode == 0:
                break
            time.sleep(0.2)
        primary = urllib.parse.urlparse(os.environ["FERRY_TEST_MYSQL_URL"])
        start = mariadb("SELECT @@gtid_binlog_pos")
        # Ferry's control tables on the primary (cutover markers, written by every task reading it) exist before
        # the replica starts: it gets a copy, kept out of its own binlog, so that their changes apply there too.
        control = subprocess.run(["mariadb-dump", "--protocol=tcp", "-h", "127.0.0.1", "-P", str(primary.port), "-u", "root",
                                  "--databases", "awsdms_control"], capture_output=True, text=True)
        if control.returncode == 0:
            subprocess.run(["mariadb", "--protocol=tcp", "-h", "127.0.0.1", "-P", str(self.port), "-u", "root",
                            "--init-command=SET sql_log_bin = 0"], input=control.stdout, check=True, capture_output=True, text=True)
        self.sql(f"SET GLOBAL gtid_slave_pos = '{start}'; "
                 f"CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT={primary.port}, MASTER_USER='root', MASTER_USE_GTID=slave_pos; "
                 "START SLAVE")

    def sql(self, sql):
        return subprocess.run(["mariadb", "--protocol=tcp", "-h", "127.0.0.1", "-P", str(self.port), "-u", "root", "-N", "-B", "-e", sql],
                              check=True, capture_output=True, text=True).stdout.strip()

    def catch_up(self):
        """Waits until the replica has applied everything the primary has written."""
        wanted = mariadb("SELECT @@gtid_binlog_pos")
        assert self.sql(f"SELECT MASTER_GTID_WAIT('{wanted}', 20)") == "0", \
            f"the replica did not reach {wanted}: " + self.sql("SHOW ALL SLAVES STATUS").replace("\t", " | ")

    def promote(self):
        self.sql("STOP SLAVE; RESET SLAVE ALL")

    def close(self):
        self.process.terminate()
        self.process.wait(timeout=60)
        shutil.rmtree(self.folder, ignore_errors=True)


def wait_for(condition, what, seconds=90, why=lambda: ""):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if condition():
            return
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}: {why()}")


def test_a_task_follows_its_mariadb_source_to_a_promoted_replica_by_gtid(server):
    dms = client(server)
    suffix = uuid.uuid4().hex[:8]
    database, target_db = f"promo_{suffix}", f"promo_dst_{suffix}"
    replica = Replica()
    psql(f"CREATE DATABASE {target_db}", "postgres")
    arn = None
    try:
        mariadb(f"CREATE DATABASE {database}; CREATE TABLE {database}.items (id int PRIMARY KEY, note varchar(32) NOT NULL); "
                f"INSERT INTO {database}.items SELECT seq, 'loaded' FROM {database}.seq_1_to_1000")
        source = dms.create_endpoint(**server_endpoint(os.environ["FERRY_TEST_MYSQL_URL"], f"promo-src-{suffix}", "source", database))["Endpoint"]
        target = dms.create_endpoint(**server_endpoint(os.environ["FERRY_TEST_POSTGRES_URL"], f"promo-dst-{suffix}", "target", target_db))["Endpoint"]
        instance = dms.create_replication_instance(ReplicationInstanceIdentifier=f"promo-{suffix}", ReplicationInstanceClass="dms.t3.medium")
        mappings = {"rules": [{"rule-type": "selection", "rule-id": "1", "rule-name": "items", "rule-action": "include",
                               "object-locator": {"schema-name": database, "table-name": "items"}}]}
        task = dms.create_replication_task(
            ReplicationTaskIdentifier=f"promo-{suffix}", SourceEndpointArn=source["EndpointArn"], TargetEndpointArn=target["EndpointArn"],
            ReplicationInstanceArn=instance["ReplicationInstance"]["ReplicationInstanceArn"], MigrationType="full-load-and-cdc",
            TableMappings=json.dumps(mappings))["ReplicationTask"]
        arn = task["ReplicationTaskArn"]
        by_arn = [{"Name": "replication-task-arn", "Values": [arn]}]
        dms.get_waiter("replication_task_ready").wait(Filters=by_arn, WaiterConfig=FAST)
        dms.start_replication_task(ReplicationTaskArn=arn, StartReplicationTaskType="start-replication")

        def on_target(where="true"):
            return int(psql(f"SELECT count(*) FROM {database}.items WHERE {where}", target_db) or 0)

        def target_has(where, count):
            try:
                return on_target(where) == count
            except subprocess.CalledProcessError:
                return False

        wait_for(lambda: target_has("true", 1000), "the full load")
        mariadb(f"INSERT INTO {database}.items SELECT seq, 'streamed' FROM {database}.seq_1001_to_1100")
        wait_for(lambda: target_has("note = 'streamed'", 100), "changes to stream from the primary")
        dms.stop_replication_task(ReplicationTaskArn=arn)
        dms.get_waiter("replication_task_stopped").wait(Filters=by_arn, WaiterConfig=FAST)

        # Written while the task is stopped: the replica receives them, then takes over from the primary.
        mariadb(f"UPDATE {database}.items SET note = 'while stopped' WHERE id <= 50; DELETE FROM {database}.items WHERE id BETWEEN 51 AND 60")
        replica.catch_up()
        replica.promote()
        replica.sql(f"INSERT INTO {database}.items SELECT seq, 'after promotion' FROM {database}.seq_2001_to_2030; "
                    f"UPDATE {database}.items SET note = 'after promotion' WHERE id BETWEEN 61 AND 70")
        dms.modify_endpoint(EndpointArn=source["EndpointArn"], Port=replica.port)
        dms.start_replication_task(ReplicationTaskArn=arn, StartReplicationTaskType="resume-processing")

        expected = replica.sql(f"SELECT id, note FROM {database}.items ORDER BY id").splitlines()
        def state():
            task_now = dms.describe_replication_tasks(Filters=by_arn)["ReplicationTasks"][0]
            events = [e["Message"] for e in dms.describe_events(SourceIdentifier=task["ReplicationTaskIdentifier"], SourceType="replication-task")["Events"]]
            return f"{task_now['Status']} {task_now.get('StopReason')} {task_now.get('LastFailureMessage')}; target {on_target()} rows; events {events}"

        wait_for(lambda: target_has("true", len(expected)) and target_has("note = 'after promotion'", 40), "the promoted replica's changes", why=state)
        assert psql(f"SELECT id, note FROM {database}.items ORDER BY id", target_db).replace("|", "\t").splitlines() == expected
        assert on_target("note = 'while stopped'") == 50, "what the replica received before its promotion was applied"
        assert on_target("id BETWEEN 51 AND 60") == 0
        assert on_target("note = 'streamed'") == 100 and on_target("note = 'loaded'") == 1000 - 70, "nothing applied twice or lost"
        wait_for(lambda: "server_id went from 1 to 2" in state(), "an event naming the new server", seconds=10, why=state)
    finally:
        if arn:
            try:
                dms.stop_replication_task(ReplicationTaskArn=arn)
            except Exception:
                pass
        replica.close()
        mariadb(f"DROP DATABASE IF EXISTS {database}")
        psql(f"DROP DATABASE IF EXISTS {target_db} WITH (FORCE)", "postgres")
