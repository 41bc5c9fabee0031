"""`ferry assess`: premigration checks against real servers, under DMS's names where DMS has them, each with
its status, the phase a failure blocks, the objects concerned and the fix. Nothing is changed."""
import json
import os
import sqlite3
import subprocess
import urllib.parse
import uuid

from test_cdc_crash import pg_url
from test_dms_api import mariadb, psql


def assess(source, target, *flags):
    result = subprocess.run([os.environ["FERRY_BIN"], "assess", "--source", source, "--target", target, "--json", *flags],
                            capture_output=True, text=True, timeout=120)
    findings = {f["name"]: f for f in json.loads(result.stdout)} if result.stdout.strip().startswith("[") else {}
    return result, findings


def test_postgres_checks_name_what_blocks_change_capture(tmp_path):
    suffix = uuid.uuid4().hex[:8]
    source_db, target_db = f"assess_src_{suffix}", f"assess_dst_{suffix}"
    psql(f"CREATE DATABASE {source_db}", "postgres")
    psql(f"CREATE DATABASE {target_db}", "postgres")
    try:
        psql("CREATE TABLE public.keyed (id int PRIMARY KEY, v text); CREATE TABLE public.loose (v text); "
             "CREATE UNLOGGED TABLE public.fast (id int PRIMARY KEY)", source_db)
        result, findings = assess(pg_url(source_db), pg_url(target_db))
        assert result.returncode == 1, result.stderr
        assert findings["postgres-check-wallevel"]["status"] == "passed"
        assert findings["ferry-postgres-target-wallevel"]["status"] == "passed", "the way back is checked too"
        assert findings["table-with-no-primary-key-or-unique-constraint"]["objects"] == ["public.loose"]
        unlogged = findings["ferry-postgres-unlogged-tables"]
        assert unlogged["status"] == "failed" and unlogged["phase"] == "cdc" and unlogged["objects"] == ["public.fast"]
        assert "SET LOGGED" in unlogged["fix"]
        assert psql("SELECT count(*) FROM pg_replication_slots WHERE database = '%s'" % source_db, "postgres") == "0", "nothing is created"

        mappings = tmp_path / "mappings.json"
        mappings.write_text(json.dumps({"rules": [{"rule-type": "selection", "rule-id": "1", "rule-name": "1",
                                                   "object-locator": {"schema-name": "public", "table-name": "missing"},
                                                   "rule-action": "include"}]}))
        result, findings = assess(pg_url(source_db), pg_url(target_db), "--table-mappings", str(mappings))
        assert findings["all-check-source-selection-rules"]["status"] == "failed"
    finally:
        for database in (source_db, target_db):
            psql(f"DROP DATABASE {database}", "postgres")


def test_mariadb_checks_read_the_binlog_settings_and_the_storage_engines():
    suffix = uuid.uuid4().hex[:8]
    database = f"assess_my_{suffix}"
    mariadb(f"CREATE DATABASE {database}; CREATE TABLE {database}.rows_ (id int PRIMARY KEY) ENGINE=InnoDB; "
            f"CREATE TABLE {database}.old (id int PRIMARY KEY) ENGINE=MyISAM")
    url = urllib.parse.urlparse(os.environ["FERRY_TEST_MYSQL_URL"])
    try:
        result, findings = assess(f"mysql://{url.username or 'root'}@{url.hostname}:{url.port}/{database}",
                                  f"sqlite://{os.environ.get('TMPDIR', '/tmp')}/assess-{suffix}.db")
        for name in ("mysql-check-binlog-enabled", "mysql-check-binlog-format", "mysql-check-binlog-image", "mysql-check-server-id"):
            assert findings[name]["status"] == "passed", findings[name]
        engines = findings["mysql-check-table-storage-engine"]
        assert engines["status"] == "warning" and engines["objects"] == [f"{database}.old (MyISAM)"]
        assert result.returncode == 0, "warnings alone do not fail the assessment"
    finally:
        mariadb(f"DROP DATABASE {database}")


def test_sqlite_checks_name_tables_change_capture_cannot_follow(tmp_path):
    path = tmp_path / "app.db"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE good (id INTEGER PRIMARY KEY, v TEXT)")
        db.execute("CREATE TABLE texty (code TEXT PRIMARY KEY, v TEXT)")
        db.execute("CREATE TABLE compact (code TEXT PRIMARY KEY, v TEXT) WITHOUT ROWID")
    result, findings = assess(f"sqlite://{path}", f"sqlite://{tmp_path}/copy.db")
    assert result.returncode == 1
    assert findings["ferry-sqlite-journal-mode"]["status"] == "warning"
    assert findings["ferry-sqlite-rowid-key"]["objects"] == ["texty"]
    assert findings["ferry-sqlite-without-rowid"]["status"] == "failed" and findings["ferry-sqlite-without-rowid"]["objects"] == ["compact"]
    assert not (tmp_path / "copy.db").exists() or sqlite3.connect(tmp_path / "copy.db").execute("SELECT count(*) FROM sqlite_master").fetchone()[0] == 0
