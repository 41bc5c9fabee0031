"""`ferry migrate --plan`: every selected table and column as it will land, the rules that shaped them and
the rules that matched nothing, without writing anything; a literal rule that names nothing is an error
naming its rule-id (exit 2), a wildcard that matches nothing a warning."""
import json
import os
import subprocess
import tempfile


def ferry(*arguments):
    return subprocess.run([os.environ["FERRY_BIN"], *arguments], capture_output=True, text=True)


def mappings(folder, *extra):
    rules = [{"rule-type": "selection", "rule-id": "1", "rule-name": "all",
              "object-locator": {"schema-name": "main", "table-name": "%"}, "rule-action": "include"},
             {"rule-type": "transformation", "rule-id": "2", "rule-name": "mail", "rule-target": "column",
              "object-locator": {"schema-name": "main", "table-name": "customers", "column-name": "email"},
              "rule-action": "rename", "value": "email_address"},
             {"rule-type": "transformation", "rule-id": "3", "rule-name": "logs", "rule-target": "table",
              "object-locator": {"schema-name": "main", "table-name": "log%"}, "rule-action": "add-prefix", "value": "old_"},
             *extra]
    path = os.path.join(folder, f"mappings-{len(extra)}.json")
    with open(path, "w") as f:
        json.dump({"rules": rules}, f)
    return path


def test_plan_shows_tables_columns_and_rules_and_writes_nothing():
    with tempfile.TemporaryDirectory() as folder:
        assert ferry("demo", "--dir", folder, "--orders", "20").returncode == 0
        source, target = f"sqlite://{folder}/shop.db", f"sqlite://{folder}/planned.db"
        text = ferry("migrate", "--source", source, "--target", target, "--table-mappings", mappings(folder), "--plan")
        assert text.returncode == 0, text.stdout + text.stderr
        assert "main.customers -> main.customers" in text.stdout
        lines = text.stdout.splitlines()
        email = next(line for line in lines if '"email_address"' in line)
        assert "VARCHAR(200) NOT NULL" in email and "from email" in email and "(rule 2)" in email, email
        assert any('"id"' in line and line.rstrip().endswith("key") for line in lines), text.stdout
        assert "warning: rule '3'.object-locator: schema-name 'main', table-name 'log%' matches no selected table or column" in text.stdout
        assert not os.path.exists(f"{folder}/planned.db"), "the plan writes nothing"

        report = json.loads(ferry("migrate", "--source", source, "--target", target, "--table-mappings", mappings(folder),
                                  "--plan", "--json").stdout)
        customers = next(t for t in report["tables"] if t["source"] == "main.customers")
        assert customers["primaryKey"] == ["id"]
        column = next(c for c in customers["columns"] if c["source"] == "email")
        assert column["target"] == "email_address" and column["rules"] == ["2"] and not column["key"]
        assert report["warnings"] == ["rule '3'.object-locator: schema-name 'main', table-name 'log%' matches no selected table or column"]

        typo = {"rule-type": "transformation", "rule-id": "9", "rule-name": "typo", "rule-target": "column",
                "object-locator": {"schema-name": "main", "table-name": "customers", "column-name": "emial"},
                "rule-action": "rename", "value": "mail"}
        for extra in ([], ["--plan"]):
            refused = ferry("migrate", "--source", source, "--target", target, "--table-mappings", mappings(folder, typo), *extra)
            assert refused.returncode == 2, refused.stdout + refused.stderr
            assert "rule '9'.object-locator: schema-name 'main', table-name 'customers', column-name 'emial' matches no selected table or column" in refused.stderr
        assert not os.path.exists(f"{folder}/planned.db") or subprocess.run(
            ["python3", "-c", f"import sqlite3; print(sqlite3.connect('{folder}/planned.db').execute('select count(*) from sqlite_master').fetchone()[0])"],
            capture_output=True, text=True).stdout.strip() == "0"
