"""Partition benchmark: three `ferry serve` nodes, each in a network namespace of its own (as
Tests/e2e/test_cluster_netns.py sets them up), on one PostgreSQL catalog, one PostgreSQL→PostgreSQL
full-load-and-cdc task, and a writer inserting a heartbeat row every 50 ms. FAULTS times per kind, the node
running the task is cut off: from the catalog alone (`ip route add prohibit`), from everything (its link set
down), or silently (every packet dropped, `tc … tbf`). The figure is the time from the cut to the first
batch another node applied (bench/failover.py's method: a trigger records every write to the task's
ferry_apply_status row). Then the cut heals and the node rejoins before the next fault. At the end the
target must equal the source and the recorded epochs must never go back. Needs root. Prints `RESULT …` lines.

    FERRY_BIN=… FERRY_TEST_POSTGRES_URL=… FAULTS=20 python3 bench/partition.py
"""
import os
import statistics
import sys
import threading
import time
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "Tests", "e2e"))
sys.path.insert(0, os.path.dirname(__file__))
from failover import LEASE_SECONDS, current_epoch, first_apply_after, heartbeats  # noqa: E402
from test_cluster import Cluster, check_history, install_checker, nodes_of, wait_for, wait_until_equal  # noqa: E402
from test_cluster_netns import CATALOG, DATABASES, Forwarder, Namespaces, sh  # noqa: E402
from test_dms_api import psql  # noqa: E402
from test_task_defaults import Pair  # noqa: E402

FAULTS = int(os.environ.get("FAULTS", "20"))


def main():
    port = urllib.parse.urlparse(os.environ["FERRY_TEST_POSTGRES_URL"]).port
    spaces = Namespaces(3)
    forwarders = [Forwarder(DATABASES, port), Forwarder(CATALOG, port)]
    cluster = Cluster()
    catalog = urllib.parse.urlparse(cluster.catalog_url)._replace(netloc=f"postgres@{CATALOG}:{port}").geturl()
    stop = threading.Event()
    figures = {"cut from the catalog": [], "link down": [], "silent drop": []}
    pair, writer = None, None
    try:
        for i in range(3):
            cluster.start(f"n{i + 1}", catalog, host=spaces.address(i), port=9600, prefix=spaces.run_in(i))
        pair = Pair(cluster.nodes["n1"].client(), "CREATE TABLE public.heartbeat (id bigserial PRIMARY KEY, ts timestamptz NOT NULL)",
                    server=(DATABASES, port))
        writer = threading.Thread(target=heartbeats, args=(pair.source_db, stop))
        arn = pair.run("partition", "full-load-and-cdc", wait=False)["ReplicationTaskArn"]
        writer.start()
        wait_for(lambda: pair.tables(arn).get("heartbeat", {}).get("Inserts", 0) > 10, "changes to stream")
        install_checker(pair.target_db)

        def holder():
            """The node running the task, as the first node that answers sees it."""
            for node in cluster.nodes.values():
                try:
                    held = [name for name, n in nodes_of(node).items() if n["RunningTasks"] == 1 and n["LeaseSecondsLeft"] > 0]
                except Exception:
                    continue
                return held[0] if len(held) == 1 else None
            return None

        for round_number in range(FAULTS):
            for kind in figures:
                owner_name = wait_for(holder, "one node to hold the task")
                owner = int(owner_name[1:]) - 1
                asking = cluster.nodes[next(n for n in cluster.nodes if n != owner_name)]
                epoch = current_epoch(pair.target_db)
                time.sleep(0.5)
                cut = time.time()
                if kind == "cut from the catalog":
                    spaces.cut_from(owner, CATALOG)
                elif kind == "link down":
                    spaces.link(owner, "down")
                else:
                    spaces.drop_silently(owner)
                seconds = wait_for(lambda: first_apply_after(pair.target_db, cut, epoch), f"{kind} #{round_number + 1} to move the task", seconds=120)
                figures[kind].append(seconds)
                print(f"{kind} #{round_number + 1}: {seconds:.2f} s (from {owner_name})", flush=True)
                if kind == "cut from the catalog":
                    spaces.heal(owner, CATALOG)
                elif kind == "link down":
                    spaces.link(owner, "up")
                    sh(*spaces.run_in(owner), "ip", "route", "add", "default", "via", f"10.231.{owner + 1}.1")
                else:
                    spaces.drop_silently(owner, dropping=False)
                wait_for(lambda: nodes_of(asking)[owner_name]["LeaseSecondsLeft"] > 0, f"{owner_name} to renew again", seconds=60)
        stop.set()
        writer.join()
        wait_until_equal(pair, seconds=120)
        sent = psql("SELECT count(*) FROM public.heartbeat", pair.source_db)
        copied = psql("SELECT count(*), count(DISTINCT id) FROM public.heartbeat", pair.target_db)
        print(f"RESULT rows source={sent} target(count,distinct)={copied} epochs={check_history(pair.target_db)} validate=equal")
        for kind, values in figures.items():
            values.sort()
            p99 = values[min(len(values) - 1, round(0.99 * (len(values) - 1)))]
            print(f"RESULT {kind}: n={len(values)} p50={statistics.median(values):.2f} s p99={p99:.2f} s max={values[-1]:.2f} s "
                  f"min={values[0]:.2f} s p50/lease={statistics.median(values) / LEASE_SECONDS:.2f}")
    finally:
        stop.set()
        if writer and writer.is_alive():
            writer.join()
        try:
            if pair:
                pair.dms = cluster.nodes["n1"].client()
                pair.close()
        finally:
            cluster.close()
            for forwarder in forwarders:
                forwarder.close()
            spaces.close()


if __name__ == "__main__":
    main()
