"""Crash safety of change data capture: `ferry migrate --mode full-load-and-cdc` is killed with SIGKILL at
random moments during the load and during CDC while the source takes continuous writes; after a restart
the target equals the source (checked by `ferry validate`): nothing lost, nothing duplicated."""
import os
import random
import signal
import subprocess
import threading
import time
import urllib.parse
import uuid

from test_dms_api import psql


def run_sql(sql, database):
    url = urllib.parse.urlparse(os.environ["FERRY_TEST_POSTGRES_URL"])
    result = subprocess.run(["psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-h", url.hostname, "-p", str(url.port),
                             "-U", url.username or "postgres", "-d", database, "-c", sql], capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"psql failed: {result.stderr}")


def pg_url(database):
    url = urllib.parse.urlparse(os.environ["FERRY_TEST_POSTGRES_URL"])
    return f"postgres://{url.username or 'postgres'}@{url.hostname}:{url.port}/{database}"


def writer(database, stop, counter):
    """Inserts, updates, key changes and deletes in multi-statement transactions until stopped."""
    n = 0
    while not stop.is_set():
        n += 1
        run_sql(f"BEGIN; INSERT INTO public.items VALUES ({1000000 + n}, {n}, 'new'); "
                f"UPDATE public.items SET counter = counter + 1, note = 'u{n}' WHERE id = {n % 250000 + 1}; "
                f"UPDATE public.items SET id = id + 2000000 WHERE id = {1000000 + n - 1}; "
                f"DELETE FROM public.items WHERE id = {n % 40000 + 5000}; COMMIT", database)
        counter[0] = n


def kill_and_recover(command, validate, write, seed):
    """Runs `write(stop, counter)` in a thread while `command` (a ferry migrate) is killed with SIGKILL three
    times, first during the full load, then during CDC; then runs it once more until `validate` (a ferry
    validate command) passes or 60 s pass, stops it, and returns the last verdict."""
    stop, written = threading.Event(), [0]
    thread = threading.Thread(target=write, args=(stop, written))
    thread.start()
    rng = random.Random(seed)
    try:
        for pause in (0.6, rng.uniform(2.5, 4), rng.uniform(2.5, 4)):
            ferry = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(pause)
            ferry.send_signal(signal.SIGKILL)
            ferry.wait()
        stop.set()
        thread.join()
        assert written[0] > 50, "the writer must have run throughout"
        ferry = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        verdict = None
        for _ in range(60):
            time.sleep(1)
            verdict = subprocess.run(validate, capture_output=True, text=True)
            if verdict.returncode == 0:
                break
        ferry.send_signal(signal.SIGINT)
        ferry.wait(timeout=60)
        return verdict
    finally:
        stop.set()
        thread.join()


def test_sigkill_during_load_and_cdc_loses_and_duplicates_nothing():
    suffix = uuid.uuid4().hex[:8]
    source_db, target_db, task = f"crash_src_{suffix}", f"crash_dst_{suffix}", f"crash_{suffix}"
    psql(f"CREATE DATABASE {source_db}", "postgres")
    psql(f"CREATE DATABASE {target_db}", "postgres")
    psql("CREATE TABLE public.items (id int PRIMARY KEY, counter int NOT NULL, note text); "
         "INSERT INTO public.items SELECT g, 0, md5(g::text) FROM generate_series(1, 300000) g", source_db)
    command = [os.environ["FERRY_BIN"], "migrate", "--source", pg_url(source_db), "--target", pg_url(target_db),
               "--mode", "full-load-and-cdc", "--task", task]
    validate = [os.environ["FERRY_BIN"], "validate", "--source", pg_url(source_db), "--target", pg_url(target_db)]
    try:
        verdict = kill_and_recover(command, validate, lambda stop, counter: writer(source_db, stop, counter), suffix)
        assert verdict.returncode == 0, verdict.stdout + verdict.stderr
        assert psql("SELECT count(*) FROM public.items", source_db) == psql("SELECT count(*) FROM public.items", target_db)
    finally:
        psql(f"SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = 'ferry_{task}'", source_db)
        psql(f"DROP DATABASE {source_db} WITH (FORCE)", "postgres")
        psql(f"DROP DATABASE {target_db} WITH (FORCE)", "postgres")


def mariadb(sql, database=""):
    url = urllib.parse.urlparse(os.environ["FERRY_TEST_MYSQL_URL"])
    result = subprocess.run(["mariadb", "-h", url.hostname, "-P", str(url.port), "-u", url.username or "root",
                             "--batch", "--skip-column-names", "-e", sql] + ([database] if database else []),
                            capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"mariadb failed: {result.stderr}")
    return result.stdout.strip()


def mariadb_writer(database, stop, counter):
    """The same write mix as `writer`, on MariaDB."""
    n = 0
    while not stop.is_set():
        n += 1
        mariadb(f"START TRANSACTION; INSERT INTO items VALUES ({1000000 + n}, {n}, 'new'); "
                f"UPDATE items SET counter = counter + 1, note = 'u{n}' WHERE id = {n % 250000 + 1}; "
                f"UPDATE items SET id = id + 2000000 WHERE id = {1000000 + n - 1}; "
                f"DELETE FROM items WHERE id = {n % 40000 + 5000}; COMMIT", database)
        counter[0] = n


def test_sigkill_with_a_mariadb_source_loses_and_duplicates_nothing():
    suffix = uuid.uuid4().hex[:8]
    source_db, target_db, task = f"crash_src_{suffix}", f"crash_dst_{suffix}", f"crash_{suffix}"
    mariadb(f"CREATE DATABASE {source_db}")
    psql(f"CREATE DATABASE {target_db}", "postgres")
    mariadb("CREATE TABLE items (id int PRIMARY KEY, counter int NOT NULL, note varchar(100)); "
            "INSERT INTO items SELECT seq, 0, md5(seq) FROM seq_1_to_300000", source_db)
    source_url = os.environ["FERRY_TEST_MYSQL_URL"] + "/" + source_db
    rules = ('{"rules":[{"rule-type":"selection","rule-id":"1","rule-name":"all","object-locator":{"schema-name":"%s",'
             '"table-name":"%%"},"rule-action":"include"},{"rule-type":"transformation","rule-id":"2","rule-name":"schema",'
             '"rule-target":"schema","object-locator":{"schema-name":"%s"},"rule-action":"rename","value":"public"}]}') % (source_db, source_db)
    mappings = f"/tmp/{task}.json"
    with open(mappings, "w") as f:
        f.write(rules)
    command = [os.environ["FERRY_BIN"], "migrate", "--source", source_url, "--target", pg_url(target_db),
               "--mode", "full-load-and-cdc", "--task", task, "--table-mappings", mappings]
    validate = [os.environ["FERRY_BIN"], "validate", "--source", source_url, "--target", pg_url(target_db), "--table-mappings", mappings]
    try:
        verdict = kill_and_recover(command, validate, lambda stop, counter: mariadb_writer(source_db, stop, counter), suffix)
        assert verdict.returncode == 0, verdict.stdout + verdict.stderr
        assert mariadb("SELECT count(*) FROM items", source_db) == psql("SELECT count(*) FROM public.items", target_db)
    finally:
        mariadb(f"DROP DATABASE IF EXISTS {source_db}")
        psql(f"DROP DATABASE {target_db} WITH (FORCE)", "postgres")
        if os.path.exists(mappings):
            os.remove(mappings)


def test_sigkill_of_ferry_serve_during_load_cdc_and_validation_resumes_by_itself():
    """An API task (full-load-and-cdc with validation) under continuous writes: `ferry serve` is killed with
    SIGKILL during the full load, during CDC and during a validation pass; each restart resumes the task with
    nobody calling resume-processing, and the target ends equal to the source."""
    import shutil
    import tempfile

    from test_server_lifecycle import Server, task_of
    from test_task_defaults import Pair

    data_dir = tempfile.mkdtemp(prefix="ferry-serve-crash-")
    server = Server(data_dir)
    pair = Pair(server.client(), "CREATE TABLE public.items (id int PRIMARY KEY, counter int NOT NULL, note text); "
                                 "INSERT INTO public.items SELECT g, 0, md5(g::text) FROM generate_series(1, 300000) g")
    task = pair.run("crash", "full-load-and-cdc", settings={"ValidationSettings": {"EnableValidation": True}}, wait=False)
    arn = task["ReplicationTaskArn"]
    stop, written = threading.Event(), [0]
    thread = threading.Thread(target=writer, args=(pair.source_db, stop, written))
    validate = [os.environ["FERRY_BIN"], "validate", "--source", pg_url(pair.source_db), "--target", pg_url(pair.target_db)]

    def table_state():
        tables = server.client().describe_table_statistics(ReplicationTaskArn=arn)["TableStatistics"]
        return tables[0] if tables else {}

    def wait_until(condition, what):
        for _ in range(600):
            if condition():
                return
            time.sleep(0.1)
        raise AssertionError(f"timed out waiting for {what}: {task_of(server.client(), arn)}")

    try:
        thread.start()
        wait_until(lambda: table_state().get("FullLoadRows", 0) > 0, "the load to start")
        phases = [("the full load", lambda: True),
                  ("CDC", lambda: table_state().get("TableState") == "Table completed" and table_state().get("Inserts", 0) > 0),
                  ("a validation pass", lambda: table_state().get("ValidationState") in ("Pending validation", "Validated", "Mismatched records"))]
        for phase, reached in phases:
            wait_until(reached, phase)
            server.process.send_signal(signal.SIGKILL)
            server.process.wait()
            server = Server(data_dir)
            wait_until(lambda: task_of(server.client(), arn)["Status"] == "running", f"the task to resume after a kill during {phase}")
            time.sleep(1)
        stop.set()
        thread.join()
        assert written[0] > 50, "the writer must have run throughout"
        verdict = None
        for _ in range(90):
            verdict = subprocess.run(validate, capture_output=True, text=True)
            if verdict.returncode == 0:
                break
            time.sleep(1)
        assert verdict.returncode == 0, verdict.stdout + verdict.stderr
        assert psql("SELECT count(*) FROM public.items", pair.source_db) == psql("SELECT count(*) FROM public.items", pair.target_db)
        messages = [e["Message"] for e in server.client().describe_events(SourceType="replication-task", Duration=60)["Events"]]
        assert messages.count("Ferry stopped while the task was running; it resumes by itself from where it stopped (resume-processing).") == 3
    finally:
        stop.set()
        if thread.is_alive():
            thread.join()
        pair.dms = server.client()
        pair.close()
        server.process.terminate()
        server.process.wait(timeout=30)
        shutil.rmtree(data_dir, ignore_errors=True)
