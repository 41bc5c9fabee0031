"""The CloudWatch-compatible API on `ferry serve`'s port: boto3 and the aws CLI (JSON 1.0, SigV4 service
`monitoring`) and a query-protocol form (XML), reading the datapoints a running PostgreSQL→PostgreSQL task's
metrics left, in namespace AWS/DMS with DMS's names, units and dimensions, and CloudWatch's errors."""
import datetime
import json
import os
import subprocess
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ElementTree

import boto3
import botocore.auth
import botocore.awsrequest
import botocore.credentials
import botocore.exceptions
import pytest

from test_api_cutover import Migration
from test_dms_api import ACCESS_KEY, REGION, SECRET_KEY, client, psql, server  # noqa: F401
from test_task_defaults import wait_for


def cloudwatch(server):
    return boto3.client("cloudwatch", endpoint_url=server["url"], region_name=REGION,
                        aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY)


def error_of(call):
    with pytest.raises(botocore.exceptions.ClientError) as raised:
        call()
    return raised.value.response["Error"]


def query_call(url, params):
    """A query-protocol request (form body, XML answer), signed as old SDKs sign it."""
    body = urllib.parse.urlencode(dict(params, Version="2010-08-01"))
    request = botocore.awsrequest.AWSRequest(method="POST", url=url + "/", data=body,
                                             headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"})
    botocore.auth.SigV4Auth(botocore.credentials.Credentials(ACCESS_KEY, SECRET_KEY), "monitoring", REGION).add_auth(request)
    prepared = urllib.request.Request(url + "/", data=body.encode(), headers=dict(request.headers), method="POST")
    try:
        with urllib.request.urlopen(prepared, timeout=30) as response:
            return response.status, ElementTree.fromstring(response.read())
    except urllib.error.HTTPError as error:
        return error.code, ElementTree.fromstring(error.read())


def test_a_tasks_metrics_answer_cloudwatch_calls(server):
    dms = client(server)
    migration = Migration(dms, rows=200)
    try:
        task = migration.task()
        instance = next(i for i in dms.describe_replication_instances()["ReplicationInstances"]
                        if i["ReplicationInstanceArn"] == task["ReplicationInstanceArn"])["ReplicationInstanceIdentifier"]
        dimensions = [{"Name": "ReplicationInstanceIdentifier", "Value": instance},
                      {"Name": "ReplicationTaskIdentifier", "Value": task["ReplicationTaskArn"].split(":")[-1]}]
        psql("INSERT INTO public.orders (amount, note) SELECT g, 'new' FROM generate_series(1, 30) g", migration.source_db)
        watch = cloudwatch(server)
        start = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=10)

        def throughput():
            end = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(minutes=1)
            points = watch.get_metric_statistics(Namespace="AWS/DMS", MetricName="CDCThroughputRowsTarget", Dimensions=dimensions,
                                                 StartTime=start, EndTime=end, Period=10, Statistics=["Sum"])["Datapoints"]
            return sum(p["Sum"] for p in points) * 10
        wait_for(lambda: abs(throughput() - 30) < 1e-6, "30 changes in CDCThroughputRowsTarget (rows/s over 10-second periods)", 90)

        end = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(minutes=1)
        latency = watch.get_metric_statistics(Namespace="AWS/DMS", MetricName="CDCLatencySource", Dimensions=dimensions,
                                              StartTime=start, EndTime=end, Period=10, Statistics=["Average", "Maximum", "SampleCount"])
        assert latency["Label"] == "CDCLatencySource" and latency["Datapoints"]
        assert all(p["Unit"] == "Seconds" and p["SampleCount"] >= 1 for p in latency["Datapoints"])
        p99 = watch.get_metric_statistics(Namespace="AWS/DMS", MetricName="CDCIncomingChanges", Dimensions=dimensions,
                                          StartTime=start, EndTime=end, Period=10, ExtendedStatistics=["p99"])
        assert p99["Datapoints"] and all("p99" in p["ExtendedStatistics"] and p["Unit"] == "Count" for p in p99["Datapoints"])
        only_instance = watch.get_metric_statistics(Namespace="AWS/DMS", MetricName="CDCLatencySource", Dimensions=dimensions[:1],
                                                    StartTime=start, EndTime=end, Period=10, Statistics=["Average"])
        assert only_instance["Datapoints"] == [], "dimensions match exactly, as in CloudWatch"

        data = watch.get_metric_data(StartTime=start, EndTime=end, MetricDataQueries=[
            {"Id": "lag", "MetricStat": {"Metric": {"Namespace": "AWS/DMS", "MetricName": "CDCLatencyTarget", "Dimensions": dimensions},
                                         "Period": 10, "Stat": "Maximum"}},
            {"Id": "math", "Expression": "lag * 2"},
        ])["MetricDataResults"]
        assert data[0]["Id"] == "lag" and data[0]["StatusCode"] == "Complete" and data[0]["Values"]
        assert data[0]["Timestamps"] == sorted(data[0]["Timestamps"], reverse=True), "TimestampDescending by default"
        assert data[1]["StatusCode"] == "InternalError" and "expressions" in data[1]["Messages"][0]["Value"]

        names = {m["MetricName"] for m in watch.list_metrics(Namespace="AWS/DMS", Dimensions=[dimensions[1]])["Metrics"]}
        assert {"CDCLatencySource", "CDCLatencyTarget", "CDCIncomingChanges", "CDCThroughputRowsTarget"} <= names, names

        wrong = error_of(lambda: watch.get_metric_statistics(Namespace="AWS/DMS", MetricName="CDCLatencySource", Dimensions=dimensions,
                                                             StartTime=start, EndTime=end, Period=7, Statistics=["Average"]))
        assert wrong["Code"] == "InvalidParameterValue" and "Period" in wrong["Message"]
        many = error_of(lambda: watch.get_metric_statistics(Namespace="AWS/DMS", MetricName="CDCLatencySource", Dimensions=dimensions,
                                                            StartTime=end - datetime.timedelta(days=2), EndTime=end, Period=60, Statistics=["Average"]))
        assert many["Code"] == "InvalidParameterCombination" and "exceeds the limit of 1440" in many["Message"]
        both = error_of(lambda: watch.get_metric_statistics(Namespace="AWS/DMS", MetricName="CDCLatencySource", Dimensions=dimensions,
                                                            StartTime=start, EndTime=end, Period=60, Statistics=["Average"], ExtendedStatistics=["p90"]))
        assert both["Code"] == "InvalidParameterCombination"
        with pytest.raises(watch.exceptions.InvalidParameterValueException):
            watch.get_metric_statistics(Namespace="AWS/DMS", MetricName="CDCLatencySource", StartTime=start, EndTime=end,
                                        Period=60, Statistics=["Mean"])

        env = dict(os.environ, AWS_ACCESS_KEY_ID=ACCESS_KEY, AWS_SECRET_ACCESS_KEY=SECRET_KEY, AWS_DEFAULT_REGION=REGION)
        cli = subprocess.run(["aws", "cloudwatch", "get-metric-statistics", "--endpoint-url", server["url"], "--namespace", "AWS/DMS",
                              "--metric-name", "CDCLatencySource", "--dimensions", *[f"Name={d['Name']},Value={d['Value']}" for d in dimensions],
                              "--start-time", start.isoformat(), "--end-time", end.isoformat(), "--period", "10",
                              "--statistics", "Maximum", "--output", "json"], env=env, capture_output=True, text=True, check=True)
        assert json.loads(cli.stdout)["Datapoints"]

        status, reply = query_call(server["url"], {
            "Action": "GetMetricStatistics", "Namespace": "AWS/DMS", "MetricName": "CDCLatencySource",
            "Dimensions.member.1.Name": dimensions[0]["Name"], "Dimensions.member.1.Value": dimensions[0]["Value"],
            "Dimensions.member.2.Name": dimensions[1]["Name"], "Dimensions.member.2.Value": dimensions[1]["Value"],
            "StartTime": start.strftime("%Y-%m-%dT%H:%M:%SZ"), "EndTime": end.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "Period": "10", "Statistics.member.1": "Average"})
        ns = {"cw": "http://monitoring.amazonaws.com/doc/2010-08-01/"}
        assert status == 200 and reply.findall("cw:GetMetricStatisticsResult/cw:Datapoints/cw:member/cw:Average", ns)
        status, reply = query_call(server["url"], {"Action": "DeleteAlarms"})
        assert status == 400 and reply.find("cw:Error/cw:Code", ns).text == "InvalidAction"
    finally:
        migration.close()


def test_cloudwatch_calls_need_a_signature_for_monitoring(server):
    bad = boto3.client("cloudwatch", endpoint_url=server["url"], region_name=REGION,
                       aws_access_key_id=ACCESS_KEY, aws_secret_access_key="not-the-secret")
    assert error_of(lambda: bad.list_metrics())["Code"] == "SignatureDoesNotMatch"
    # A DMS-scoped signature does not open CloudWatch.
    request = botocore.awsrequest.AWSRequest(method="POST", url=server["url"] + "/", data="{}", headers={
        "Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": "GraniteServiceVersion20100801.ListMetrics"})
    botocore.auth.SigV4Auth(botocore.credentials.Credentials(ACCESS_KEY, SECRET_KEY), "dms", REGION).add_auth(request)
    prepared = urllib.request.Request(server["url"] + "/", data=b"{}", headers=dict(request.headers), method="POST")
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(prepared, timeout=10)
    assert "monitoring" in refused.value.read().decode()
