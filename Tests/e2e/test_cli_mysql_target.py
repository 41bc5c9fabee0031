"""`ferry migrate --target mysql://…/newdb` where newdb does not exist yet: the load creates what it needs,
each source schema as a database of its name, or every table in newdb with `?target_db_type=specific-database`."""
import os
import subprocess
import uuid

from test_cdc_crash import pg_url
from test_dms_api import mariadb, psql


def test_a_target_database_that_does_not_exist_yet_is_created():
    suffix = uuid.uuid4().hex[:8]
    source_db, new_db = f"mysrc_{suffix}", f"newdb_{suffix}"
    psql(f"CREATE DATABASE {source_db}", "postgres")
    psql("CREATE TABLE public.orders (id int PRIMARY KEY, total numeric(8,2)); INSERT INTO public.orders VALUES (1, 9.50), (2, 3.25); "
         "CREATE SCHEMA sales; CREATE TABLE sales.leads (id int PRIMARY KEY, name text); INSERT INTO sales.leads VALUES (7, 'Ada')", source_db)
    target = os.environ["FERRY_TEST_MYSQL_URL"] + "/" + new_db
    try:
        one = subprocess.run([os.environ["FERRY_BIN"], "migrate", "--source", pg_url(source_db),
                              "--target", target + "?target_db_type=specific-database"], capture_output=True, text=True)
        assert one.returncode == 0, one.stdout + one.stderr
        assert mariadb(f"SELECT (SELECT count(*) FROM `{new_db}`.orders), (SELECT name FROM `{new_db}`.leads)") == "2\tAda"

        bad = subprocess.run([os.environ["FERRY_BIN"], "migrate", "--source", pg_url(source_db),
                              "--target", target + "?target_db_type=one-database"], capture_output=True, text=True)
        assert bad.returncode == 2, bad.stdout + bad.stderr
        assert "--target: target_db_type: 'one-database' is not one of multiple-databases, specific-database" in bad.stderr, bad.stderr
    finally:
        mariadb(f"DROP DATABASE IF EXISTS `{new_db}`")
        psql(f"DROP DATABASE {source_db} WITH (FORCE)", "postgres")
