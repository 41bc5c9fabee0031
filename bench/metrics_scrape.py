"""Scrape cost on a loaded server: TASKS full-load tasks of TABLES tables each (SQLite to SQLite) run on
`ferry serve` at URL, then GET /metrics is timed SCRAPES times against GET /health, the same server's
cheapest answer. Prints RESULT lines.

    python3 bench/metrics_scrape.py URL DIR TASKS TABLES SCRAPES
"""
import os
import sqlite3
import statistics
import sys
import time
import urllib.request

import boto3

FAST = {"Delay": 1, "MaxAttempts": 600}


def timed(url, count):
    seconds, size = [], 0
    for _ in range(count):
        start = time.perf_counter()
        with urllib.request.urlopen(url, timeout=30) as response:
            size = len(response.read())
        seconds.append(time.perf_counter() - start)
    return seconds, size


def main():
    url, folder, tasks, tables, scrapes = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
    source = os.path.join(folder, "source.db")
    with sqlite3.connect(source) as db:
        for t in range(tables):
            db.execute(f"CREATE TABLE t{t} (id INTEGER PRIMARY KEY, v TEXT)")
            db.executemany(f"INSERT INTO t{t} VALUES (?, 'x')", [(i,) for i in range(10)])
    dms = boto3.client("dms", endpoint_url=url, region_name="us-east-1",
                       aws_access_key_id=os.environ["FERRY_ACCESS_KEY_ID"], aws_secret_access_key=os.environ["FERRY_SECRET_ACCESS_KEY"])
    src = dms.create_endpoint(EndpointIdentifier="src", EndpointType="source", EngineName="sqlite", DatabaseName=source)["Endpoint"]
    instance = dms.create_replication_instance(ReplicationInstanceIdentifier="ri", ReplicationInstanceClass="dms.c5.4xlarge")["ReplicationInstance"]
    mappings = '{"rules":[{"rule-type":"selection","rule-id":"1","rule-name":"1","object-locator":{"schema-name":"%","table-name":"%"},"rule-action":"include"}]}'
    arns = []
    for n in range(tasks):
        dst = dms.create_endpoint(EndpointIdentifier=f"dst{n}", EndpointType="target", EngineName="sqlite",
                                  DatabaseName=os.path.join(folder, f"target{n}.db"))["Endpoint"]
        arns.append(dms.create_replication_task(
            ReplicationTaskIdentifier=f"task{n}", SourceEndpointArn=src["EndpointArn"], TargetEndpointArn=dst["EndpointArn"],
            ReplicationInstanceArn=instance["ReplicationInstanceArn"], MigrationType="full-load", TableMappings=mappings,
        )["ReplicationTask"]["ReplicationTaskArn"])
    for arn in arns:
        dms.get_waiter("replication_task_ready").wait(Filters=[{"Name": "replication-task-arn", "Values": [arn]}], WaiterConfig=FAST)
        dms.start_replication_task(ReplicationTaskArn=arn, StartReplicationTaskType="start-replication")
    for arn in arns:
        dms.get_waiter("replication_task_stopped").wait(Filters=[{"Name": "replication-task-arn", "Values": [arn]}], WaiterConfig=FAST)
    timed(url + "/metrics", 3)  # warm up
    metrics, size = timed(url + "/metrics", scrapes)
    health, _ = timed(url + "/health", scrapes)
    series = sum(1 for line in urllib.request.urlopen(url + "/metrics").read().decode().splitlines() if line and not line.startswith("#"))
    print(f"RESULT scrape of {tasks} tasks x {tables} tables ({series} series, {size // 1024} KB): "
          f"p50 {statistics.median(metrics) * 1000:.1f} ms max {max(metrics) * 1000:.1f} ms")
    print(f"RESULT GET /health on the same server: p50 {statistics.median(health) * 1000:.1f} ms max {max(health) * 1000:.1f} ms")
    print(f"RESULT ratio of p50s (metrics / health): {statistics.median(metrics) / statistics.median(health):.1f}")


if __name__ == "__main__":
    main()
