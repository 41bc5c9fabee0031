"""`ferry migrate --task-settings`: a DMS ReplicationTaskSettings file is checked as the API checks it and
takes effect on the command line."""
import json
import os
import subprocess
import tempfile
import uuid

from test_cdc_crash import pg_url
from test_dms_api import psql


def migrate(*arguments):
    return subprocess.run([os.environ["FERRY_BIN"], "migrate", *arguments], capture_output=True, text=True)


def settings_file(document):
    handle = tempfile.NamedTemporaryFile("w", suffix=".json", delete=False)
    json.dump(document, handle)
    handle.close()
    return handle.name


def test_task_settings_file_takes_effect_and_mistakes_name_their_path():
    suffix = uuid.uuid4().hex[:8]
    source_db, target_db = f"cli_src_{suffix}", f"cli_dst_{suffix}"
    psql(f"CREATE DATABASE {source_db}", "postgres")
    psql(f"CREATE DATABASE {target_db}", "postgres")
    psql("CREATE TABLE public.docs (id int PRIMARY KEY, body text); "
         "INSERT INTO public.docs VALUES (1, repeat('x', 5000)), (2, 'short')", source_db)
    try:
        limited = settings_file({"TargetMetadata": {"LimitedSizeLobMode": True, "LobMaxSize": 2},
                                 "FullLoadSettings": {"MaxFullLoadSubTasks": 2}, "Logging": {"EnableLogging": True}})
        run = migrate("--source", pg_url(source_db), "--target", pg_url(target_db), "--task-settings", limited, "--json")
        assert run.returncode == 0, run.stdout + run.stderr
        table = json.loads(run.stdout)["tables"][0]
        assert table["state"] == "Table completed"
        assert "1 value of public.docs.body exceeded the LOB limit of 2 KB and was cut to it (limited LOB mode)" in table["warnings"]
        assert psql("SELECT length(body) FROM public.docs ORDER BY id", target_db) == "2048\n5"
        assert "Logging.EnableLogging, which ferry migrate accepts but does not act on" in run.stderr

        # TRUNCATE_BEFORE_LOAD from the file keeps the table and reloads it, whole now that no limit is set.
        keep = settings_file({"FullLoadSettings": {"TargetTablePrepMode": "TRUNCATE_BEFORE_LOAD"}})
        run = migrate("--source", pg_url(source_db), "--target", pg_url(target_db), "--task-settings", keep, "--json")
        assert run.returncode == 0, run.stdout + run.stderr
        assert psql("SELECT length(body) FROM public.docs ORDER BY id", target_db) == "5000\n5"

        wrong = settings_file({"FullLoadSettings": {"MaxFullLoadSubTask": 4}})
        run = migrate("--source", pg_url(source_db), "--target", pg_url(target_db), "--task-settings", wrong)
        assert run.returncode == 2
        assert "--task-settings: FullLoadSettings.MaxFullLoadSubTask: unknown setting" in run.stderr
    finally:
        psql(f"DROP DATABASE {source_db} WITH (FORCE)", "postgres")
        psql(f"DROP DATABASE {target_db} WITH (FORCE)", "postgres")
