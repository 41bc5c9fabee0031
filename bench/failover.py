"""Failover benchmark: two `ferry serve` nodes on one PostgreSQL catalog, one PostgreSQL→PostgreSQL
full-load-and-cdc task, and a writer inserting a heartbeat row every 50 ms. FAULTS times per kind, the node
running the task is killed (kill -9), paused past its lease (SIGSTOP, then SIGCONT once the task moved) or
drained (SIGTERM). Each time, the figure is the time from the fault to the first batch another node applied:
a trigger on the target records every write to the task's ferry_apply_status row with its time, and the
first write of a new epoch after its claim is that batch. The floor to compare with is the lease itself
(10 s): no node may take a task before its holder's lease has run out. At the end the target must equal the
source (`ferry validate`) and the recorded epochs must never go back. Prints `RESULT …` lines.

With MIXED_WRITES=1 (bench/soak.sh) a second table of 20,000 rows takes inserts, updates, key changes and
deletes in multi-statement transactions all along, beside the heartbeat, and must end equal too.

    FERRY_BIN=… FERRY_TEST_POSTGRES_URL=… FAULTS=20 python3 bench/failover.py
"""
import os
import signal
import statistics
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "Tests", "e2e"))
from test_cdc_crash import pg_url  # noqa: E402
from test_cluster import Cluster, Writer, check_history, install_checker, nodes_of, wait_for, wait_until_equal  # noqa: E402
from test_dms_api import psql  # noqa: E402
from test_task_defaults import Pair  # noqa: E402

FAULTS = int(os.environ.get("FAULTS", "20"))
MIXED_WRITES = os.environ.get("MIXED_WRITES") == "1"
ITEMS = ("; CREATE TABLE public.items (id int PRIMARY KEY, counter int NOT NULL, note text); "
         "INSERT INTO public.items SELECT g, 0, md5(g::text) FROM generate_series(1, 20000) g")
LEASE_SECONDS = 10


def heartbeats(database, stop):
    """One row every 50 ms, each its own transaction, over one psql session."""
    url = pg_url(database)
    client = subprocess.Popen(["psql", "-X", "-q", url], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, text=True, bufsize=1)
    while not stop.is_set():
        client.stdin.write("INSERT INTO public.heartbeat (ts) VALUES (clock_timestamp());\n")
        time.sleep(0.05)
    client.stdin.close()
    client.wait()


def first_apply_after(target_db, fault_time, old_epoch):
    """Seconds from the fault to the first batch of a later epoch (its second write: the first is the claim)."""
    rows = psql(f"SELECT extract(epoch FROM at) FROM apply_history WHERE epoch > {old_epoch} ORDER BY id LIMIT 2", target_db).splitlines()
    return float(rows[1]) - fault_time if len(rows) == 2 else None


def current_epoch(target_db):
    return int(psql("SELECT max(epoch) FROM public.ferry_apply_status WHERE task_name NOT LIKE '%~chunk~%'", target_db))


def holder(node):
    return next(name for name, n in nodes_of(node).items() if n["RunningTasks"] == 1)


def main():
    cluster = Cluster()
    cluster.start("a")
    cluster.start("b")
    pair = Pair(cluster.nodes["a"].client(), "CREATE TABLE public.heartbeat (id bigserial PRIMARY KEY, ts timestamptz NOT NULL)"
                + (ITEMS if MIXED_WRITES else ""))
    stop = threading.Event()
    writer = threading.Thread(target=heartbeats, args=(pair.source_db, stop))
    mixed = Writer(pair.source_db) if MIXED_WRITES else None
    figures = {"kill -9": [], "SIGSTOP": [], "drain": []}
    try:
        arn = pair.run("failover", "full-load-and-cdc", wait=False)["ReplicationTaskArn"]
        writer.start()
        if mixed:
            mixed.start()
        wait_for(lambda: pair.tables(arn).get("heartbeat", {}).get("Inserts", 0) > 10, "changes to stream")
        install_checker(pair.target_db)
        for round_number in range(FAULTS):
            for kind in figures:
                live = next(n for n in cluster.nodes.values() if n.process.poll() is None)
                name = holder(live)
                victim = cluster.nodes[name]
                other = next(n for k, n in cluster.nodes.items() if k != name)
                epoch = current_epoch(pair.target_db)
                time.sleep(0.5)
                fault = time.time()
                if kind == "kill -9":
                    victim.process.send_signal(signal.SIGKILL)
                elif kind == "SIGSTOP":
                    victim.process.send_signal(signal.SIGSTOP)
                else:
                    victim.process.terminate()
                seconds = wait_for(lambda: first_apply_after(pair.target_db, fault, epoch), f"{kind} #{round_number + 1} to move the task", seconds=120)
                figures[kind].append(seconds)
                print(f"{kind} #{round_number + 1}: {seconds:.2f} s ({name} → {other.name})", flush=True)
                if kind == "SIGSTOP":
                    victim.process.send_signal(signal.SIGCONT)
                    wait_for(lambda: nodes_of(other)[name]["RunningTasks"] == 0, "the woken node to give the task up", seconds=30)
                else:
                    victim.process.wait(timeout=60)
                    victim.log.close()
                    cluster.nodes[name] = victim.restart()
                time.sleep(1)
        stop.set()
        writer.join()
        if mixed:
            mixed.stop()
            print(f"RESULT mixed transactions written={mixed.written[0]}")
        wait_until_equal(pair, seconds=120)
        sent = psql("SELECT count(*) FROM public.heartbeat", pair.source_db)
        copied = psql("SELECT count(*), count(DISTINCT id) FROM public.heartbeat", pair.target_db)
        epochs = check_history(pair.target_db)
        print(f"RESULT rows source={sent} target(count,distinct)={copied} epochs={epochs} validate=equal")
        for kind, values in figures.items():
            values.sort()
            p99 = values[min(len(values) - 1, round(0.99 * (len(values) - 1)))]
            print(f"RESULT {kind}: n={len(values)} p50={statistics.median(values):.2f} s p99={p99:.2f} s max={values[-1]:.2f} s "
                  f"min={values[0]:.2f} s p50/lease={statistics.median(values) / LEASE_SECONDS:.2f}")
        pair.dms = next(n for n in cluster.nodes.values() if n.process.poll() is None).client()
    finally:
        stop.set()
        if writer.is_alive():
            writer.join()
        if mixed:
            mixed.stop()
        try:
            pair.close()
        finally:
            cluster.close()


if __name__ == "__main__":
    main()
