"""DMS's premigration assessment API on `ferry serve`, driven by boto3 and the aws CLI against real servers:
the applicable checks, a run in the background with its individual assessments, statistics and report files,
IncludeOnly and Exclude, the errors DMS gives, cancel and delete, and the legacy StartReplicationTaskAssessment."""
import json
import os
import subprocess
import urllib.parse
import uuid


from test_api_cutover import ferry_call
from test_dms_api import ACCESS_KEY, FAST, REGION, SECRET_KEY, client, error_code, mariadb, psql, server, server_endpoint  # noqa: F401
from test_task_defaults import MAPPINGS, Pair, wait_for

ENDED = ("passed", "warning", "failed", "error-executing")


def create_task(dms, pair, name, migration_type="full-load-and-cdc"):
    arn = dms.create_replication_task(
        ReplicationTaskIdentifier=f"{name}-{pair.suffix}", SourceEndpointArn=pair.source["EndpointArn"],
        TargetEndpointArn=pair.target["EndpointArn"], ReplicationInstanceArn=pair.instance["ReplicationInstanceArn"],
        MigrationType=migration_type, TableMappings=MAPPINGS)["ReplicationTask"]["ReplicationTaskArn"]
    pair.tasks.append(arn)
    dms.get_waiter("replication_task_ready").wait(Filters=[{"Name": "replication-task-arn", "Values": [arn]}], WaiterConfig=FAST)
    return arn


def start_run(dms, task_arn, name, **extra):
    return dms.start_replication_task_assessment_run(
        ReplicationTaskArn=task_arn, ServiceAccessRoleArn="arn:aws:iam::123456789012:role/ferry", ResultLocationBucket="ferry-reports",
        ResultLocationFolder="team/app", AssessmentRunName=name, **extra)["ReplicationTaskAssessmentRun"]


def wait_run(dms, run_arn):
    by_arn = [{"Name": "replication-task-assessment-run-arn", "Values": [run_arn]}]
    run = lambda: dms.describe_replication_task_assessment_runs(Filters=by_arn)["ReplicationTaskAssessmentRuns"][0]
    wait_for(lambda: run()["Status"] in ENDED, "the assessment run to end", 120)
    return run()


def individual(dms, run_arn):
    found = dms.describe_replication_task_individual_assessments(
        Filters=[{"Name": "replication-task-assessment-run-arn", "Values": [run_arn]}])["ReplicationTaskIndividualAssessments"]
    return {a["IndividualAssessmentName"]: a["Status"] for a in found}



def test_an_assessment_run_checks_a_task_and_reports_like_dms(server):
    dms = client(server)
    pair = Pair(dms, "CREATE TABLE public.keyed (id int PRIMARY KEY, v text); CREATE TABLE public.loose (v text)")
    try:
        task = create_task(dms, pair, "assessed")
        applicable = dms.describe_applicable_individual_assessments(ReplicationTaskArn=task)["IndividualAssessmentNames"]
        for name in ("postgres-check-wallevel", "table-with-no-primary-key-or-unique-constraint", "ferry-postgres-target-wallevel"):
            assert name in applicable
        load_only = dms.describe_applicable_individual_assessments(
            ReplicationInstanceArn=pair.instance["ReplicationInstanceArn"], SourceEngineName="postgres", TargetEngineName="sqlite",
            MigrationType="full-load")["IndividualAssessmentNames"]
        assert "unsupported-data-types-in-source" in load_only and "postgres-check-wallevel" not in load_only, load_only

        assert error_code(lambda: start_run(dms, task, "both", IncludeOnly=["postgres-check-wallevel"], Exclude=["postgres-check-pk"]))[0] \
            == "InvalidParameterCombinationException"
        code, message = error_code(lambda: start_run(dms, task, "unknown", IncludeOnly=["postgres-check-nonsense"]))
        assert code == "InvalidParameterValueException" and "IncludeOnly: 'postgres-check-nonsense'" in message
        code, message = error_code(lambda: dms.start_replication_task_assessment_run(
            ReplicationTaskArn=task, ServiceAccessRoleArn="r", ResultLocationBucket="ferry-reports", ResultLocationFolder="../escape",
            AssessmentRunName="escape"))
        assert code == "InvalidParameterValueException" and "ResultLocationFolder" in message

        started = start_run(dms, task, "first", Tags=[{"Key": "team", "Value": "db"}])
        assert started["Status"] == "starting" and started["AssessmentProgress"]["IndividualAssessmentCount"] == len(applicable)
        run = wait_run(dms, started["ReplicationTaskAssessmentRunArn"])
        assert run["Status"] == "failed", run
        assert run["AssessmentProgress"]["IndividualAssessmentCompletedCount"] == len(applicable)
        assert run["ResultStatistic"]["Failed"] >= 1 and run["ResultStatistic"]["Passed"] >= 1
        statuses = individual(dms, run["ReplicationTaskAssessmentRunArn"])
        assert sorted(statuses) == sorted(applicable), "every applicable check ran, under the name it is listed by"
        assert statuses["table-with-no-primary-key-or-unique-constraint"] == "failed"
        assert statuses["postgres-check-wallevel"] == "passed"
        report = os.path.join(server["data_dir"], "assessment-results", "ferry-reports", "team", "app", "first")
        with open(os.path.join(report, "table-with-no-primary-key-or-unique-constraint.json")) as f:
            assert json.load(f)["objects"] == ["public.loose"]
        with open(os.path.join(report, "summary.json")) as f:
            assert json.load(f)["run"]["Status"] == "failed"
        full = ferry_call(server["url"], "DescribeReplicationTaskAssessmentReport",
                          {"ReplicationTaskAssessmentRunArn": run["ReplicationTaskAssessmentRunArn"]})
        keyless = next(f for f in full["Findings"] if f["IndividualAssessmentName"] == "table-with-no-primary-key-or-unique-constraint")
        assert keyless["Status"] == "failed" and keyless["Objects"] == ["public.loose"] and keyless["Phase"] == "cdc" and keyless["Fix"]
        assert full["ReportLocation"] == report
        assert dms.list_tags_for_resource(ResourceArn=run["ReplicationTaskAssessmentRunArn"])["TagList"][0]["Key"] == "team"

        assert error_code(lambda: start_run(dms, task, "first"))[0] == "ResourceAlreadyExistsFault"
        assert error_code(lambda: dms.cancel_replication_task_assessment_run(
            ReplicationTaskAssessmentRunArn=run["ReplicationTaskAssessmentRunArn"]))[0] == "InvalidResourceStateFault"

        only = wait_run(dms, start_run(dms, task, "only-wal", IncludeOnly=["postgres-check-wallevel"])["ReplicationTaskAssessmentRunArn"])
        assert only["Status"] == "passed" and only["IsLatestTaskAssessmentRun"]
        assert individual(dms, only["ReplicationTaskAssessmentRunArn"]) == {"postgres-check-wallevel": "passed"}
        runs = dms.describe_replication_task_assessment_runs(Filters=[{"Name": "replication-task-arn", "Values": [task]}])
        assert [r["IsLatestTaskAssessmentRun"] for r in runs["ReplicationTaskAssessmentRuns"]] == [False, True]
        excluded = wait_run(dms, start_run(dms, task, "no-keys", Exclude=["table-with-no-primary-key-or-unique-constraint"])["ReplicationTaskAssessmentRunArn"])
        assert "table-with-no-primary-key-or-unique-constraint" not in individual(dms, excluded["ReplicationTaskAssessmentRunArn"])

        deleted = dms.delete_replication_task_assessment_run(ReplicationTaskAssessmentRunArn=run["ReplicationTaskAssessmentRunArn"])
        assert deleted["ReplicationTaskAssessmentRun"]["Status"] == "deleting"
        assert not os.path.exists(report), "the report goes with the run"
        assert error_code(lambda: dms.describe_replication_task_assessment_runs(
            Filters=[{"Name": "replication-task-assessment-run-arn", "Values": [run["ReplicationTaskAssessmentRunArn"]]}]))[0] == "ResourceNotFoundFault"
    finally:
        pair.close()


def test_legacy_assessment_and_the_aws_cli(server):
    dms = client(server)
    pair = Pair(dms, "CREATE TABLE public.keyed (id int PRIMARY KEY, v text)")
    try:
        task = create_task(dms, pair, "legacy", "full-load")
        assert dms.start_replication_task_assessment(ReplicationTaskArn=task)["ReplicationTask"]["ReplicationTaskArn"] == task
        result = lambda: dms.describe_replication_task_assessment_results(ReplicationTaskArn=task)["ReplicationTaskAssessmentResults"]
        wait_for(lambda: result() and result()[0]["AssessmentStatus"] in ENDED, "the legacy assessment", 120)
        assert result()[0]["AssessmentStatus"] == "passed", result()
        findings = {f["name"]: f for f in json.loads(result()[0]["AssessmentResults"])}
        assert findings["all-check-source-selection-rules"]["status"] == "passed"
        assert "postgres-check-wallevel" not in findings and "table-with-no-primary-key-or-unique-constraint" not in findings, \
            "a full-load task is not checked for change capture"

        env = dict(os.environ, AWS_ACCESS_KEY_ID=ACCESS_KEY, AWS_SECRET_ACCESS_KEY=SECRET_KEY, AWS_DEFAULT_REGION=REGION)
        out = subprocess.run(["aws", "dms", "describe-applicable-individual-assessments", "--replication-task-arn", task,
                              "--endpoint-url", server["url"], "--output", "json"], env=env, check=True, capture_output=True, text=True)
        assert sorted(json.loads(out.stdout)["IndividualAssessmentNames"]) == sorted(findings)
    finally:
        pair.close()


def test_mariadb_to_sqlite_lists_exactly_the_checks_it_runs(server, tmp_path):
    dms = client(server)
    suffix = uuid.uuid4().hex[:8]
    database = f"assess_api_{suffix}"
    mariadb(f"CREATE DATABASE {database}; CREATE TABLE {database}.items (id int PRIMARY KEY) ENGINE=InnoDB")
    try:
        source = dms.create_endpoint(**server_endpoint(os.environ["FERRY_TEST_MYSQL_URL"], f"my-{suffix}", "source", database))["Endpoint"]
        target = dms.create_endpoint(EndpointIdentifier=f"lite-{suffix}", EndpointType="target", EngineName="sqlite",
                                     DatabaseName=str(tmp_path / "copy.db"))["Endpoint"]
        instance = dms.create_replication_instance(ReplicationInstanceIdentifier=f"ri-{suffix}", ReplicationInstanceClass="dms.t3.medium")
        task = dms.create_replication_task(
            ReplicationTaskIdentifier=f"my-lite-{suffix}", SourceEndpointArn=source["EndpointArn"], TargetEndpointArn=target["EndpointArn"],
            ReplicationInstanceArn=instance["ReplicationInstance"]["ReplicationInstanceArn"], MigrationType="full-load-and-cdc",
            TableMappings=json.dumps({"rules": [{"rule-type": "selection", "rule-id": "1", "rule-name": "1",
                                                 "object-locator": {"schema-name": database, "table-name": "%"}, "rule-action": "include"}]}),
        )["ReplicationTask"]["ReplicationTaskArn"]
        dms.get_waiter("replication_task_ready").wait(Filters=[{"Name": "replication-task-arn", "Values": [task]}], WaiterConfig=FAST)
        applicable = dms.describe_applicable_individual_assessments(ReplicationTaskArn=task)["IndividualAssessmentNames"]
        assert "mysql-check-binlog-format" in applicable and "ferry-sqlite-writable" in applicable
        run = wait_run(dms, start_run(dms, task, "mariadb")["ReplicationTaskAssessmentRunArn"])
        statuses = individual(dms, run["ReplicationTaskAssessmentRunArn"])
        assert sorted(statuses) == sorted(applicable)
        assert "skipped" not in statuses.values(), statuses
        assert statuses["mysql-check-binlog-format"] == "passed", statuses
        dms.delete_replication_task(ReplicationTaskArn=task)
        assert error_code(lambda: dms.describe_replication_task_assessment_runs(
            Filters=[{"Name": "replication-task-arn", "Values": [task]}]))[0] == "ResourceNotFoundFault", "a task's runs go with it"
    finally:
        mariadb(f"DROP DATABASE {database}")
