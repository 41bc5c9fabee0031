"""`ferry validate` on a table with 10,004 differences (a gap of 10,000 keys, one more missing row, one
extra row, two changed rows): the report names every kind, gives the totals, and shows the gap as one range,
in text and in JSON."""
import json
import os
import subprocess
import uuid

from test_cdc_crash import pg_url
from test_dms_api import psql


def test_a_report_with_many_differences_stays_readable():
    suffix = uuid.uuid4().hex[:8]
    source_db, target_db = f"report_src_{suffix}", f"report_dst_{suffix}"
    psql(f"CREATE DATABASE {source_db}", "postgres")
    psql(f"CREATE DATABASE {target_db}", "postgres")
    table = ("CREATE TABLE public.accounts (id int PRIMARY KEY, balance int NOT NULL); "
             "INSERT INTO public.accounts SELECT g, g FROM generate_series(1, 220000) g")
    psql(table, source_db)
    psql(table + "; DELETE FROM public.accounts WHERE id BETWEEN 200001 AND 210000 OR id = 5; "
         "INSERT INTO public.accounts VALUES (999999, 0); UPDATE public.accounts SET balance = -1 WHERE id IN (7, 8)", target_db)
    command = [os.environ["FERRY_BIN"], "validate", "--source", pg_url(source_db), "--target", pg_url(target_db)]
    try:
        text = subprocess.run(command, capture_output=True, text=True)
        assert text.returncode == 1, text.stdout + text.stderr
        out = text.stdout
        assert "10004 differing rows" in out, out
        assert "10,001 missing on target, 1 extra on target, 2 differing" in out, out
        assert "missing on target: id 200001–210000 (10,000 rows)" in out, out
        assert 'missing on target: {"key":["5"]}' in out, out
        assert 'extra on target:   {"key":["999999"]}' in out, out
        assert 'differs:           {"key":["7"]} balance: \'7\' ≠ \'-1\'' in out, out
        assert len(out.splitlines()) < 12, out

        # Cut to three entries, every kind keeps an example; the rest are counted.
        cut = subprocess.run(command + ["--max-differences", "3", "--json"], capture_output=True, text=True)
        report = json.loads(cut.stdout)["tables"][0]
        assert report["differenceCount"] == 10004
        assert report["differenceCounts"] == {"MISSING_TARGET": 10001, "MISSING_SOURCE": 1, "RECORD_DIFF": 2}
        assert sorted(d["type"] for d in report["differences"]) == ["MISSING_SOURCE", "MISSING_TARGET", "RECORD_DIFF"], report
        gap = [d for d in report["differences"] if d["rows"] > 1]
        assert gap == [] or (gap[0]["key"] == ["200001"] and gap[0]["lastKey"] == ["210000"] and gap[0]["rows"] == 10000), gap
    finally:
        psql(f"DROP DATABASE {source_db} WITH (FORCE)", "postgres")
        psql(f"DROP DATABASE {target_db} WITH (FORCE)", "postgres")
