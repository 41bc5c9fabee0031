"""Event categories, subscriptions and webhook delivery on `ferry serve`, with a real local HTTP receiver:
DMS's categories and event ids, Standard Webhooks signatures checked by the receiver, a retry after a 500
with the same webhook-id, the delivery log, a 410 that disables its subscription, and the API's errors."""
import base64
import hashlib
import hmac
import http.server
import json
import os
import sqlite3
import subprocess
import tempfile
import threading

import boto3
import botocore.exceptions
import pytest

from test_api_cutover import Migration, ferry_call
from test_dms_api import FAST, free_port
from test_task_defaults import wait_for

KEY, SECRET, REGION = "AKIAEVENTS0000000001", "events-secret", "eu-central-1"


class Receiver(http.server.ThreadingHTTPServer):
    """Answers /events with 500 to the first attempt at each message and 200 after; /gone with 410."""

    def __init__(self):
        self.received, self.attempts = [], {}
        super().__init__(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.serve_forever, daemon=True).start()


class Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        message = self.headers["webhook-id"]
        self.server.attempts[message] = self.server.attempts.get(message, 0) + 1
        self.server.received.append((self.path, {k.lower(): v for k, v in self.headers.items()}, body))
        code = 410 if self.path == "/gone" else (500 if self.server.attempts[message] == 1 else 200)
        self.send_response(code)
        self.end_headers()

    def log_message(self, *args):
        pass


def verify(headers, body, secret):
    key = base64.b64decode(secret[len("whsec_"):])
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + body
    expected = "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    return hmac.compare_digest(expected, headers["webhook-signature"])


@pytest.fixture
def events_server():
    receiver = Receiver()
    port = free_port()
    data_dir = tempfile.mkdtemp(prefix="ferry-events-")
    base = f"http://127.0.0.1:{receiver.server_address[1]}"
    process = subprocess.Popen([os.environ["FERRY_BIN"], "serve", "--listen", f"127.0.0.1:{port}", "--data-dir", data_dir,
                                "--webhook", f"hook={base}/events", "--webhook", f"gone={base}/gone", "--alarm-retained-gb", "0.000001"],
                               env=dict(os.environ, FERRY_ACCESS_KEY_ID=KEY, FERRY_SECRET_ACCESS_KEY=SECRET),
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    secrets = {}
    for line in process.stdout:
        if line.startswith("Webhook "):
            secrets[line.split()[1]] = next(word for word in line.split() if word.startswith("whsec_"))
        if line.startswith("Ferry listening"):
            break
    threading.Thread(target=lambda: [None for _ in process.stdout], daemon=True).start()
    yield {"url": f"http://127.0.0.1:{port}", "receiver": receiver, "secrets": secrets, "data_dir": data_dir}
    process.terminate()
    process.wait(timeout=30)
    receiver.shutdown()


def test_subscriptions_deliver_signed_events_to_webhooks(events_server):
    dms = boto3.client("dms", endpoint_url=events_server["url"], region_name=REGION, aws_access_key_id=KEY, aws_secret_access_key=SECRET)
    receiver, secrets = events_server["receiver"], events_server["secrets"]
    assert set(secrets) == {"hook", "gone"} and all(s.startswith("whsec_") for s in secrets.values())
    groups = {g["SourceType"]: g["EventCategories"] for g in dms.describe_event_categories()["EventCategoryGroupList"]}
    assert "state change" in groups["replication-task"] and "alarm" in groups["replication-task"] and "low storage" in groups["replication-instance"]

    topic = lambda name: f"arn:aws:sns:{REGION}:000000000000:{name}"
    tasks = dms.create_event_subscription(SubscriptionName="tasks", SnsTopicArn=topic("hook"), SourceType="replication-task",
                                          EventCategories=["state change", "failure"])["EventSubscription"]
    assert tasks["Status"] == "active" and tasks["Enabled"] and tasks["CustSubscriptionId"] == "tasks"
    assert dms.create_event_subscription(SubscriptionName="nowhere", SnsTopicArn=topic("missing"))["EventSubscription"]["Status"] == "topic-not-exist"
    dms.create_event_subscription(SubscriptionName="gone", SnsTopicArn=topic("gone"), SourceType="replication-task")
    with pytest.raises(botocore.exceptions.ClientError) as bad:
        dms.create_event_subscription(SubscriptionName="bad", SnsTopicArn=topic("hook"), SourceType="replication-task", EventCategories=["weather"])
    assert bad.value.response["Error"]["Code"] == "InvalidParameterValueException" and "weather" in bad.value.response["Error"]["Message"]
    with pytest.raises(botocore.exceptions.ClientError) as bad:
        dms.create_event_subscription(SubscriptionName="bad", SnsTopicArn="hook")
    assert bad.value.response["Error"]["Code"] == "SNSInvalidTopicFault"
    with pytest.raises(botocore.exceptions.ClientError) as taken:
        dms.create_event_subscription(SubscriptionName="tasks", SnsTopicArn=topic("hook"))
    assert taken.value.response["Error"]["Code"] == "ResourceAlreadyExistsFault"

    source = os.path.join(events_server["data_dir"], "shop.db")
    with sqlite3.connect(source) as db:
        db.execute("CREATE TABLE orders (id INTEGER PRIMARY KEY, note TEXT)")
        db.execute("INSERT INTO orders VALUES (1, 'a')")
    src = dms.create_endpoint(EndpointIdentifier="src", EndpointType="source", EngineName="sqlite", DatabaseName=source)["Endpoint"]
    dst = dms.create_endpoint(EndpointIdentifier="dst", EndpointType="target", EngineName="sqlite",
                              DatabaseName=os.path.join(events_server["data_dir"], "copy.db"))["Endpoint"]
    instance = dms.create_replication_instance(ReplicationInstanceIdentifier="ri", ReplicationInstanceClass="dms.t3.medium")["ReplicationInstance"]
    task = dms.create_replication_task(
        ReplicationTaskIdentifier="shop", SourceEndpointArn=src["EndpointArn"], TargetEndpointArn=dst["EndpointArn"],
        ReplicationInstanceArn=instance["ReplicationInstanceArn"], MigrationType="full-load",
        TableMappings=json.dumps({"rules": [{"rule-type": "selection", "rule-id": "1", "rule-name": "1",
                                             "object-locator": {"schema-name": "%", "table-name": "%"}, "rule-action": "include"}]}))["ReplicationTask"]
    by_arn = [{"Name": "replication-task-arn", "Values": [task["ReplicationTaskArn"]]}]
    dms.get_waiter("replication_task_ready").wait(Filters=by_arn, WaiterConfig=FAST)
    dms.start_replication_task(ReplicationTaskArn=task["ReplicationTaskArn"], StartReplicationTaskType="start-replication")
    dms.get_waiter("replication_task_stopped").wait(Filters=by_arn, WaiterConfig=FAST)

    delivered = lambda: [json.loads(body) for path, headers, body in receiver.received
                         if path == "/events" and receiver.attempts[headers["webhook-id"]] >= 2]
    wait_for(lambda: {e["data"]["detail"]["eventId"] for e in delivered()} >= {"DMS-EVENT-0069", "DMS-EVENT-0079"},
             "the started and stopped events, each on its second attempt", 60)
    for path, headers, body in receiver.received:
        assert verify(headers, body, secrets["gone" if path == "/gone" else "hook"]), "every delivery carries a valid signature"
    events = [json.loads(body) for path, _, body in receiver.received if path == "/events"]
    assert all(e["data"]["detail"]["sourceIdentifier"] == "shop" and e["data"]["source"] == "ferry.dms" for e in events)
    assert not any("created" in e["data"]["detail"]["detailMessage"] for e in events), "creation is not a subscribed category"
    started = next(e for e in events if e["data"]["detail"]["eventId"] == "DMS-EVENT-0069")
    assert started["type"] == "dms.replication-task.state-change" and started["data"]["detail-type"] == "DMS Replication Task State Change"
    retried = [h["webhook-id"] for p, h, _ in receiver.received if p == "/events"]
    assert all(retried.count(message) == 2 for message in set(retried)), "a 500 is retried once with the same webhook-id"

    log = ferry_call(events_server["url"], "DescribeEventDeliveries", {"SubscriptionName": "tasks"}, KEY, SECRET, REGION)["Deliveries"]
    assert {(d["Attempt"], d["ResponseCode"], d["Delivered"]) for d in log} == {(1, 500, False), (2, 200, True)}
    wait_for(lambda: dms.describe_event_subscriptions(SubscriptionName="gone")["EventSubscriptionsList"][0]["Enabled"] is False,
             "the 410 to disable its subscription", 30)

    dms.modify_event_subscription(SubscriptionName="tasks", Enabled=False)
    count = len(receiver.received)
    dms.start_replication_task(ReplicationTaskArn=task["ReplicationTaskArn"], StartReplicationTaskType="reload-target")
    dms.get_waiter("replication_task_stopped").wait(Filters=by_arn, WaiterConfig=FAST)
    assert len([1 for p, _, _ in receiver.received[count:] if p == "/events"]) == 0, "a disabled subscription delivers nothing"
    assert dms.delete_event_subscription(SubscriptionName="tasks")["EventSubscription"]["Status"] == "deleting"
    with pytest.raises(botocore.exceptions.ClientError) as gone:
        dms.describe_event_subscriptions(SubscriptionName="tasks")
    assert gone.value.response["Error"]["Code"] == "ResourceNotFoundFault"


def test_a_retained_log_above_the_threshold_raises_an_alarm_event(events_server):
    dms = boto3.client("dms", endpoint_url=events_server["url"], region_name=REGION, aws_access_key_id=KEY, aws_secret_access_key=SECRET)
    dms.create_event_subscription(SubscriptionName="alarms", SnsTopicArn=f"arn:aws:sns:{REGION}:000000000000:hook",
                                  SourceType="replication-task", EventCategories=["alarm"])
    migration = Migration(dms, rows=100)
    try:
        receiver, secret = events_server["receiver"], events_server["secrets"]["hook"]
        alarms = lambda: [json.loads(body) for path, headers, body in receiver.received
                          if path == "/events" and verify(headers, body, secret) and receiver.attempts[headers["webhook-id"]] >= 2]
        wait_for(lambda: any(a["data"]["detail"]["detailMessage"].startswith("Alarm: the source keeps") for a in alarms()),
                 "the retained-log alarm at the webhook", 90)
        alarm = next(a for a in alarms() if a["data"]["detail"]["detailMessage"].startswith("Alarm: the source keeps"))
        assert alarm["data"]["detail"]["eventCategories"] == ["alarm"] and alarm["data"]["detail"]["sourceIdentifier"] == migration.name
        events = dms.describe_events(SourceIdentifier=migration.name, SourceType="replication-task", EventCategories=["alarm"])["Events"]
        assert len(events) == 1, "raised once, not every second"
    finally:
        migration.close()
