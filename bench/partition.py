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

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "Tests", "e2e"))
sys.path.insert(0, os.path.dirname(__file__))
from failover import LEASE_SECONDS, current_epoch, first_apply_after, heartbeats  # noqa: E402
from test_cluster import check_history, install_checker, nodes_of, wait_for, wait_until_equal  # noqa: E402
from test_cluster_netns import netns_cluster  # noqa: E402
from test_dms_api import psql  # noqa: E402

FAULTS = int(os.environ.get("FAULTS", "20"))


def main():
    stop = threading.Event()
    figures = {"catalog": [], "link": [], "silence": []}
    names = {"catalog": "cut from the catalog", "link": "link down", "silence": "silent drop"}
    with netns_cluster(3, "CREATE TABLE public.heartbeat (id bigserial PRIMARY KEY, ts timestamptz NOT NULL)") as (spaces, cluster, pair):
        writer = threading.Thread(target=heartbeats, args=(pair.source_db, stop))
        try:
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
                    spaces.cut(owner, kind)
                    seconds = wait_for(lambda: first_apply_after(pair.target_db, cut, epoch), f"{names[kind]} #{round_number + 1} to move the task", seconds=120)
                    figures[kind].append(seconds)
                    print(f"{names[kind]} #{round_number + 1}: {seconds:.2f} s (from {owner_name})", flush=True)
                    spaces.heal_fault(owner, kind)
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
                print(f"RESULT {names[kind]}: n={len(values)} p50={statistics.median(values):.2f} s p99={p99:.2f} s max={values[-1]:.2f} s "
                      f"min={values[0]:.2f} s p50/lease={statistics.median(values) / LEASE_SECONDS:.2f}")
        finally:
            stop.set()
            if writer.is_alive():
                writer.join()


if __name__ == "__main__":
    main()
