"""`ferry cutover` and `ferry rollback` beside `ferry migrate`, PostgreSQL to PostgreSQL and SQLite to PostgreSQL,
while an application writer inserts without ids, updates and deletes: the cutover freezes writes, the target
catches up, the writer moves to the target and keeps inserting without key collisions, its writes reach the
source through the reverse stream, the rollback moves it back, and at the end both sides hold the same rows:
0 lost, 0 duplicated."""
import json
import os
import sqlite3
import subprocess
import threading
import time
import urllib.parse
import uuid

import pytest

from test_cdc_crash import pg_url, run_sql
from test_dms_api import mariadb, psql
from test_task_defaults import wait_for

SEED_ROWS = 2000


class Writer(threading.Thread):
    """The application: one transaction at a time (two inserts without ids, an update, a delete: one row more
    per commit) against whichever database it is pointed at (`database`, a Side). A refused transaction (a
    freeze that timed out, the fence on the old database) is retried; `committed` counts the ones that committed."""

    def __init__(self, database):
        super().__init__(daemon=True)
        self.database = database
        self.stop, self.committed, self.refused, self.errors = threading.Event(), 0, 0, []

    def run(self):
        n = 0
        while not self.stop.is_set():
            n += 1
            try:
                self.database.transaction(n)
                self.committed += 1
            except Exception as error:  # refused: retried against the database the writer points at by then
                self.refused += 1
                self.errors.append(str(error))
                time.sleep(0.05)
            time.sleep(0.01)


def pg_transaction(database, n):
    run_sql("BEGIN; INSERT INTO public.orders (amount, note) VALUES (%d, 'a'), (%d, 'b'); "
            "UPDATE public.orders SET amount = amount + 1 WHERE id = (SELECT max(id) FROM public.orders); "
            "DELETE FROM public.orders WHERE id = (SELECT min(id) FROM public.orders WHERE note = 'seed'); COMMIT" % (n, n), database)


def sqlite_transaction(path, n):
    with sqlite3.connect(path, timeout=30, isolation_level=None) as db:
        db.execute("BEGIN IMMEDIATE")
        try:
            db.execute("INSERT INTO orders (amount, note) VALUES (?, 'a'), (?, 'b')", (n, n))
            db.execute("UPDATE orders SET amount = amount + 1 WHERE id = (SELECT max(id) FROM orders)")
            db.execute("DELETE FROM orders WHERE id = (SELECT min(id) FROM orders WHERE note = 'seed')")
            db.execute("COMMIT")
        except Exception:
            db.execute("ROLLBACK")
            raise


def ferry(*args, cwd, timeout=120):
    return subprocess.run([os.environ["FERRY_BIN"], *args], capture_output=True, text=True, cwd=cwd, timeout=timeout)


def start_migrate(cwd, *args):
    return subprocess.Popen([os.environ["FERRY_BIN"], "migrate", *args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, cwd=cwd)


def pg_rows(database):
    return psql("SELECT count(*) || ' ' || md5(string_agg(id || ':' || amount || ':' || note, ',' ORDER BY id)) FROM public.orders", database)


def sqlite_rows(path):
    with sqlite3.connect(path) as db:
        rows = db.execute("SELECT id, amount, note FROM orders ORDER BY id").fetchall()
    import hashlib
    return f"{len(rows)} " + hashlib.md5(",".join(f"{i}:{a}:{n}" for i, a, n in rows).encode()).hexdigest()


def my_transaction(database, n):
    try_mariadb(f"USE {database}; BEGIN; INSERT INTO orders (amount, note) VALUES ({n}, 'a'), ({n}, 'b'); "
            "UPDATE orders SET amount = amount + 1 ORDER BY id DESC LIMIT 1; "
            "DELETE FROM orders WHERE note = 'seed' ORDER BY id LIMIT 1; COMMIT")


def try_mariadb(sql):
    """Runs SQL with the mariadb client; its error message becomes the exception's."""
    try:
        mariadb(sql)
    except subprocess.CalledProcessError as error:
        raise RuntimeError(f"mariadb failed: {error.stderr}") from None


def my_rows(database):
    count, digest = mariadb(f"SET SESSION group_concat_max_len = 1 << 24; SELECT COUNT(*), MD5(GROUP_CONCAT(CONCAT(id, ':', amount, ':', note) "
                            f"ORDER BY id SEPARATOR ',')) FROM {database}.orders").split("\t")
    return f"{count} {digest}"


class Side:
    """One database of a round trip: its URL, its writes (`transaction(n)`) and its rows' fingerprint."""

    def __init__(self, url, transaction, rows):
        self.url, self.transaction, self.rows = url, transaction, rows

    def copied(self):
        """Whether the table exists and has rows."""
        try:
            rows = self.rows().split()
        except (subprocess.CalledProcessError, RuntimeError):
            return False
        return bool(rows) and rows[0] != "0"


def pg_side(database):
    return Side(pg_url(database), lambda n: pg_transaction(database, n), lambda: pg_rows(database))


def my_side(database):
    url = urllib.parse.urlparse(os.environ["FERRY_TEST_MYSQL_URL"])
    return Side(f"mysql://{url.username or 'root'}@{url.hostname}:{url.port}/{database}", lambda n: my_transaction(database, n),
                lambda: my_rows(database))


def sqlite_side(path):
    return Side(f"sqlite://{path}", lambda n: sqlite_transaction(path, n), lambda: sqlite_rows(path))


def cut(direction, old, new, task, cwd, writer, to, mappings):
    """Runs `ferry cutover` or `ferry rollback` and points the writer at `to` once it completed."""
    result = ferry(direction, "--source", old.url, "--target", new.url, "--task", task, "--timeout", "10", "--json", *mappings, cwd=cwd)
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout[result.stdout.index("{"):])
    writer.database = to
    assert report["Status"] == "completed"
    assert 0 < report["WritePauseSeconds"] < 10
    return report


def replicate_back(cwd, report, source, target, mappings):
    args = ["--mode", "cdc", "--source", source.url, "--target", target.url, "--task", report["ReverseReplicationTaskIdentifier"],
            "--cdc-start-position", report["ReversePosition"]]
    return start_migrate(cwd, *args, *(["--table-mappings", mappings] if mappings else []))


def round_trip(source, target, task, cwd, mappings_file=None):
    """Cutover, writes on the target that flow back, rollback, writes on the source again, under a writer
    that moves with each switch; returns the reports and the writer."""
    mappings = ["--table-mappings", mappings_file] if mappings_file else []
    writer = Writer(source)
    writer.start()
    forward = start_migrate(cwd, "--source", source.url, "--target", target.url, "--mode", "full-load-and-cdc", "--task", task, *mappings)
    try:
        wait_for(lambda: writer.committed > 20 and target.copied(), "the copy to start", 60)
        time.sleep(1)
        cutover = cut("cutover", source, target, task, cwd, writer, target, mappings)
        out, _ = forward.communicate(timeout=30)
        assert "stopped for a cutover" in out, out
        with pytest.raises(Exception, match="moved to another database by"):
            source.transaction(0)
        # Running the forward migration again would load the stale old database over the new one: refused.
        again = subprocess.run([os.environ["FERRY_BIN"], "migrate", "--source", source.url, "--target", target.url,
                                "--mode", "full-load-and-cdc", "--task", task, *mappings], capture_output=True, text=True, timeout=60, cwd=cwd)
        assert again.returncode == 2 and "moved to another database in a Ferry cutover" in again.stderr, again.stdout + again.stderr
        reverse = replicate_back(cwd, cutover, target, source, f"ferry-cutover-{task}-reverse.json")
        try:
            committed = writer.committed
            wait_for(lambda: writer.committed > committed + 40, "writes on the target", 60)
            rollback = cut("rollback", source, target, task, cwd, writer, source, mappings)
            out, _ = reverse.communicate(timeout=30)
            assert "stopped for a cutover" in out, out
        finally:
            if reverse.poll() is None:
                reverse.kill()
        forward = replicate_back(cwd, rollback, source, target, mappings_file)
        committed = writer.committed
        wait_for(lambda: writer.committed > committed + 40, "writes on the source again", 60)
        writer.stop.set()
        writer.join()
        wait_for(lambda: source.rows() == target.rows(), "the target to equal the source", 60)
        assert int(source.rows().split()[0]) == SEED_ROWS + writer.committed, "every committed transaction adds one row: none lost, none twice"
        # The old database takes writes again after the rollback, without key collisions; the new one is fenced.
        source.transaction(0)
        with pytest.raises(Exception, match="moved to another database by"):
            target.transaction(0)
        return cutover, rollback
    finally:
        writer.stop.set()
        if forward.poll() is None:
            forward.terminate()
            forward.wait(timeout=30)


def rename_schema(tmp_path, source_schema, target_schema):
    """A mapping file that selects every table of `source_schema` and puts it into `target_schema`."""
    mappings = tmp_path / "mappings.json"
    mappings.write_text(json.dumps({"rules": [
        {"rule-type": "selection", "rule-id": "1", "rule-name": "1", "object-locator": {"schema-name": source_schema, "table-name": "%"},
         "rule-action": "include"},
        {"rule-type": "transformation", "rule-id": "2", "rule-name": "2", "rule-target": "schema",
         "object-locator": {"schema-name": source_schema}, "rule-action": "rename", "value": target_schema}]}))
    return str(mappings)


def drop_pg(*databases):
    for database in databases:
        psql(f"SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE database = '{database}' AND NOT active", "postgres")
        psql(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)", "postgres")


PG_ORDERS = ("CREATE TABLE public.orders (id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, amount int NOT NULL, note text); "
             f"INSERT INTO public.orders (amount, note) SELECT g, 'seed' FROM generate_series(1, {SEED_ROWS}) g")
MY_ORDERS = ("USE {db}; CREATE TABLE orders (id bigint AUTO_INCREMENT PRIMARY KEY, amount int NOT NULL, note text); "
             "INSERT INTO orders (amount, note) SELECT seq, 'seed' FROM seq_1_to_%d" % SEED_ROWS)


def test_postgres_cutover_and_rollback_under_writes_lose_nothing(tmp_path):
    suffix = uuid.uuid4().hex[:8]
    source_db, target_db, task = f"cut_src_{suffix}", f"cut_dst_{suffix}", f"cut_{suffix}"
    psql(f"CREATE DATABASE {source_db}", "postgres")
    psql(f"CREATE DATABASE {target_db}", "postgres")
    try:
        psql(PG_ORDERS, source_db)
        cutover, rollback = round_trip(pg_side(source_db), pg_side(target_db), task, tmp_path)
        assert cutover["Counters"] and rollback["Counters"]
    finally:
        drop_pg(source_db, target_db)


def test_sqlite_cutover_and_rollback_under_writes_lose_nothing(tmp_path):
    suffix = uuid.uuid4().hex[:8]
    target_db, task = f"cut_sqlite_{suffix}", f"cut_sqlite_{suffix}"
    path = str(tmp_path / "app.db")
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE orders (id INTEGER PRIMARY KEY AUTOINCREMENT, amount INTEGER NOT NULL, note TEXT)")
        db.executemany("INSERT INTO orders (amount, note) VALUES (?, 'seed')", [(i,) for i in range(SEED_ROWS)])
    psql(f"CREATE DATABASE {target_db}", "postgres")
    try:
        # SQLite's one schema, main, goes to public: the reverse task renames it back.
        round_trip(sqlite_side(path), pg_side(target_db), task, tmp_path, rename_schema(tmp_path, "main", "public"))
    finally:
        drop_pg(target_db)


def test_mariadb_to_postgres_cutover_and_rollback_under_writes_lose_nothing(tmp_path):
    suffix = uuid.uuid4().hex[:8]
    source_db, target_db, task = f"cut_my_{suffix}", f"cut_mypg_{suffix}", f"cut_my_{suffix}"
    mariadb(f"CREATE DATABASE {source_db}; " + MY_ORDERS.format(db=source_db))
    psql(f"CREATE DATABASE {target_db}", "postgres")
    try:
        round_trip(my_side(source_db), pg_side(target_db), task, tmp_path, rename_schema(tmp_path, source_db, "public"))
    finally:
        mariadb(f"DROP DATABASE IF EXISTS {source_db}")
        drop_pg(target_db)


def test_postgres_to_mariadb_cutover_and_rollback_under_writes_lose_nothing(tmp_path):
    suffix = uuid.uuid4().hex[:8]
    source_db, target_db, task = f"cut_pgmy_{suffix}", f"cut_pgmy_{suffix}", f"cut_pgmy_{suffix}"
    psql(f"CREATE DATABASE {source_db}", "postgres")
    psql(PG_ORDERS, source_db)
    try:
        round_trip(pg_side(source_db), my_side(target_db), task, tmp_path, rename_schema(tmp_path, "public", target_db))
    finally:
        mariadb(f"DROP DATABASE IF EXISTS {target_db}")
        drop_pg(source_db)


def test_complete_removes_what_ferry_left_on_both_sides(tmp_path):
    suffix = uuid.uuid4().hex[:8]
    source_db, target_db, task = f"cut_done_src_{suffix}", f"cut_done_dst_{suffix}", f"cut_done_{suffix}"
    psql(f"CREATE DATABASE {source_db}", "postgres")
    psql(f"CREATE DATABASE {target_db}", "postgres")
    source, target = pg_side(source_db), pg_side(target_db)
    forward = reverse = subprocess.Popen(["true"])
    try:
        psql(PG_ORDERS, source_db)
        forward = start_migrate(tmp_path, "--source", source.url, "--target", target.url, "--mode", "full-load-and-cdc", "--task", task)
        wait_for(target.copied, "the copy", 60)
        writer = Writer(source)
        cutover = cut("cutover", source, target, task, tmp_path, writer, target, [])
        forward.communicate(timeout=30)
        reverse = subprocess.Popen([os.environ["FERRY_BIN"], "migrate", "--mode", "cdc", "--source", target.url, "--target", source.url,
                                    "--task", cutover["ReverseReplicationTaskIdentifier"], "--cdc-start-position", cutover["ReversePosition"],
                                    "--table-mappings", f"ferry-cutover-{task}-reverse.json"],
                                   stdout=open(tmp_path / "reverse.log", "w"), stderr=subprocess.STDOUT, cwd=tmp_path)
        wait_for(lambda: "cdc:" in open(tmp_path / "reverse.log").read(), "the reverse stream", 60)
        refused = ferry("cutover", "--complete", "--source", source.url, "--target", target.url, "--task", task, cwd=tmp_path)
        assert refused.returncode == 2 and "stop it first" in refused.stderr, refused.stderr
        reverse.send_signal(2)
        reverse.wait(timeout=30)
        done = ferry("cutover", "--complete", "--source", source.url, "--target", target.url, "--task", task, cwd=tmp_path)
        assert done.returncode == 0, done.stdout + done.stderr
        for database in (source_db, target_db):
            assert psql(f"SELECT count(*) FROM pg_replication_slots WHERE database = '{database}'", "postgres") == "0"
            assert psql("SELECT count(*) FROM pg_publication", database) == "0"
            assert psql("SELECT count(*) FROM pg_trigger WHERE tgname = 'ferry_write_fence'", database) == "0"
            assert psql("SELECT count(*) FROM public.ferry_apply_status", database) == "0"
        source.transaction(0)  # the old database takes writes again: nothing of Ferry's is left on it
    finally:
        for process in (forward, reverse):
            if process.poll() is None:
                process.kill()
                process.wait()
        drop_pg(source_db, target_db)


def test_a_cutover_killed_under_the_freeze_leaves_the_source_writable_and_is_undone_by_the_next(tmp_path):
    suffix = uuid.uuid4().hex[:8]
    source_db, target_db, task = f"cut_kill_src_{suffix}", f"cut_kill_dst_{suffix}", f"cut_kill_{suffix}"
    psql(f"CREATE DATABASE {source_db}", "postgres")
    psql(f"CREATE DATABASE {target_db}", "postgres")
    source, target = pg_side(source_db), pg_side(target_db)
    forward = subprocess.Popen(["true"])
    try:
        psql(PG_ORDERS.replace(str(SEED_ROWS), "300000"), source_db)
        forward = start_migrate(tmp_path, "--source", source.url, "--target", target.url, "--mode", "full-load-and-cdc", "--task", task)
        wait_for(lambda: target.copied() and target.rows().startswith("300000 "), "the copy", 120)
        time.sleep(1)
        journal = tmp_path / f"ferry-cutover-{task}.json"
        cutover = subprocess.Popen([os.environ["FERRY_BIN"], "cutover", "--source", source.url, "--target", target.url, "--task", task],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=tmp_path)
        # The verifying step can be brief: the journal is read every few milliseconds, not every 0.2 s.
        deadline = time.time() + 60
        while not (journal.exists() and '"step" : "verifying"' in journal.read_text()):
            if time.time() > deadline or cutover.poll() is not None:
                cutover.kill()
                raise AssertionError(f"the cutover was never seen verifying under the freeze; its journal: "
                                     f"{journal.read_text() if journal.exists() else 'none'}")
            time.sleep(0.005)
        cutover.kill()
        cutover.wait()
        # The freeze died with the process's sessions: the application writes at once, and the stream goes on.
        pg_transaction(source_db, 1)
        wait_for(lambda: source.rows() == target.rows(), "the write to reach the target", 30)
        assert forward.poll() is None, "the forward replication was not stopped"

        again = ferry("cutover", "--source", source.url, "--target", target.url, "--task", task, "--validate", "none", cwd=tmp_path)
        assert again.returncode == 0, again.stdout + again.stderr
        assert "interrupted at verifying, was undone" in again.stderr, again.stderr
        out, _ = forward.communicate(timeout=30)
        assert "stopped for a cutover" in out
    finally:
        if forward.poll() is None:
            forward.kill()
            forward.wait()
        drop_pg(source_db, target_db)
