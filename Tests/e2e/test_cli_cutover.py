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
import uuid

import pytest

from test_cdc_crash import pg_url, run_sql
from test_dms_api import psql
from test_task_defaults import wait_for

SEED_ROWS = 2000


class Writer(threading.Thread):
    """The application: one transaction at a time (two inserts without ids, an update, a delete: one row more
    per commit) against whichever database it is pointed at. A refused transaction (a freeze that timed out,
    the fence on the old database) is retried; `committed` counts the ones that committed."""

    def __init__(self, execute, database):
        super().__init__(daemon=True)
        self.execute, self.database = execute, database
        self.stop, self.committed, self.refused, self.errors = threading.Event(), 0, 0, []

    def run(self):
        n = 0
        while not self.stop.is_set():
            n += 1
            try:
                self.execute(self.database, n)
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


def copied(database):
    try:
        return psql("SELECT count(*) FROM public.orders", database) != "0"
    except subprocess.CalledProcessError:
        return False


def cut(direction, source, target, task, cwd, writer, new_database, mappings):
    """Runs `ferry cutover` or `ferry rollback` and points the writer at `new_database` once it completed."""
    result = ferry(direction, "--source", source, "--target", target, "--task", task, "--timeout", "10", "--json", *mappings, cwd=cwd)
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout[result.stdout.index("{"):])
    writer.database = new_database
    assert report["Status"] == "completed"
    assert 0 < report["WritePauseSeconds"] < 10
    return report


def replicate_back(cwd, report, source, target, mappings):
    args = ["--mode", "cdc", "--source", source, "--target", target, "--task", report["ReverseReplicationTaskIdentifier"],
            "--cdc-start-position", report["ReversePosition"]]
    return start_migrate(cwd, *args, *(["--table-mappings", mappings] if mappings else []))


def round_trip(source, target, task, cwd, writer, target_handle, source_handle, rows, refuse_on_source, mappings_file=None):
    """Cutover, writes on the target that flow back, rollback, writes on the source again; returns the reports."""
    mappings = ["--table-mappings", mappings_file] if mappings_file else []
    forward = start_migrate(cwd, "--source", source, "--target", target, "--mode", "full-load-and-cdc", "--task", task, *mappings)
    try:
        wait_for(lambda: writer.committed > 20 and copied(target_handle), "the copy to start", 60)
        time.sleep(1)
        cutover = cut("cutover", source, target, task, cwd, writer, target_handle, mappings)
        out, _ = forward.communicate(timeout=30)
        assert "stopped for a cutover" in out, out
        with pytest.raises(Exception, match="moved to another database by Ferry cutover"):
            refuse_on_source()
        reverse = replicate_back(cwd, cutover, target, source, f"ferry-cutover-{task}-reverse.json")
        try:
            committed = writer.committed
            wait_for(lambda: writer.committed > committed + 40, "writes on the target", 60)
            rollback = cut("rollback", source, target, task, cwd, writer, source_handle, mappings)
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
        wait_for(lambda: rows(source_handle) == pg_rows(target_handle), "the target to equal the source", 60)
        return cutover, rollback
    finally:
        writer.stop.set()
        if forward.poll() is None:
            forward.terminate()
            forward.wait(timeout=30)


def test_postgres_cutover_and_rollback_under_writes_lose_nothing(tmp_path):
    suffix = uuid.uuid4().hex[:8]
    source_db, target_db, task = f"cut_src_{suffix}", f"cut_dst_{suffix}", f"cut_{suffix}"
    psql(f"CREATE DATABASE {source_db}", "postgres")
    psql(f"CREATE DATABASE {target_db}", "postgres")
    try:
        psql("CREATE TABLE public.orders (id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, amount int NOT NULL, note text); "
             f"INSERT INTO public.orders (amount, note) SELECT g, 'seed' FROM generate_series(1, {SEED_ROWS}) g", source_db)
        writer = Writer(pg_transaction, source_db)
        writer.start()
        cutover, rollback = round_trip(pg_url(source_db), pg_url(target_db), task, tmp_path, writer, target_db, source_db, pg_rows,
                                       lambda: pg_transaction(source_db, 0))
        count = int(pg_rows(source_db).split()[0])
        assert count == SEED_ROWS + writer.committed, "every committed transaction adds one row: none lost, none twice"
        assert cutover["Counters"] and rollback["Counters"]
        # The old database takes writes again after the rollback, without key collisions; the target is fenced.
        pg_transaction(source_db, 0)
        with pytest.raises(Exception, match="moved to another database"):
            pg_transaction(target_db, 0)
    finally:
        for database in (source_db, target_db):
            psql(f"SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE database = '{database}'", "postgres")
            psql(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)", "postgres")


def test_sqlite_cutover_and_rollback_under_writes_lose_nothing(tmp_path):
    suffix = uuid.uuid4().hex[:8]
    target_db, task = f"cut_sqlite_{suffix}", f"cut_sqlite_{suffix}"
    path = str(tmp_path / "app.db")
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE orders (id INTEGER PRIMARY KEY AUTOINCREMENT, amount INTEGER NOT NULL, note TEXT)")
        db.executemany("INSERT INTO orders (amount, note) VALUES (?, 'seed')", [(i,) for i in range(SEED_ROWS)])
    psql(f"CREATE DATABASE {target_db}", "postgres")
    try:
        execute = lambda database, n: sqlite_transaction(path, n) if database == path else pg_transaction(database, n)
        writer = Writer(execute, path)
        writer.start()
        # SQLite's one schema, main, goes to public: the reverse task renames it back.
        mappings = tmp_path / "mappings.json"
        mappings.write_text(json.dumps({"rules": [
            {"rule-type": "selection", "rule-id": "1", "rule-name": "1", "object-locator": {"schema-name": "main", "table-name": "%"},
             "rule-action": "include"},
            {"rule-type": "transformation", "rule-id": "2", "rule-name": "2", "rule-target": "schema",
             "object-locator": {"schema-name": "main"}, "rule-action": "rename", "value": "public"}]}))
        round_trip(f"sqlite://{path}", pg_url(target_db), task, tmp_path, writer, target_db, path, sqlite_rows,
                   lambda: sqlite_transaction(path, 0), str(mappings))
        assert int(sqlite_rows(path).split()[0]) == SEED_ROWS + writer.committed
    finally:
        psql(f"SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE database = '{target_db}'", "postgres")
        psql(f"DROP DATABASE IF EXISTS {target_db} WITH (FORCE)", "postgres")
