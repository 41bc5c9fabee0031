"""Scale benchmark: how many change-streaming tasks a cluster keeps up with, each fed 1,000 changes a second.

For each node count in NODES (1 and 3) and each task count in TASKS, a fresh cluster of `ferry serve` nodes on
one PostgreSQL catalog runs that many PostgreSQL→PostgreSQL `full-load-and-cdc` tasks, each with a
source and a target database of its own; StartReplicationTask leaves each task to the node with the fewest.
pgbench then writes RATE single-row inserts a second into every source for SECONDS (paced, like `pgbench
-R`). Every second the lag of each task is sampled on its target: the age of the newest row applied (each row
carries the source's clock_timestamp()). A configuration keeps up when every task's p99 lag stays under
KEEPS_UP seconds and every target ends with every row; when the writers cannot keep their schedule (the
machine is full) the rate they reached is printed. Everything runs on this one machine — the databases,
the nodes and the writers — so adding nodes adds no cores: the figure is what one machine's cores carry, and
how evenly the cluster spreads the tasks. Prints `RESULT …` lines.

    FERRY_BIN=… FERRY_TEST_POSTGRES_URL=… PGBENCH=… python3 bench/scale.py
"""
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "Tests", "e2e"))
from test_cdc_crash import pg_url  # noqa: E402
from test_cluster import Cluster, nodes_of, wait_for  # noqa: E402
from test_dms_api import psql  # noqa: E402
from test_task_defaults import Pair  # noqa: E402

NODES = [int(n) for n in os.environ.get("NODES", "1 3").split()]
TASKS = [int(n) for n in os.environ.get("TASKS", "1 2 4 6").split()]
RATE = int(os.environ.get("RATE", "1000"))
SECONDS = int(os.environ.get("SECONDS_RUN", "60"))
KEEPS_UP = float(os.environ.get("KEEPS_UP", "5"))
TABLE = "CREATE TABLE public.events (id bigserial PRIMARY KEY, ts timestamptz NOT NULL DEFAULT clock_timestamp(), note text NOT NULL)"


def lag(target_db):
    """Seconds since the newest row the target holds was written on its source."""
    value = psql("SELECT coalesce(extract(epoch FROM clock_timestamp() - max(ts)), 0) FROM public.events", target_db)
    return float(value or 0)


def trial(nodes, tasks):
    """One configuration: returns (per-task p50 lags, per-task p99 lags, rows kept, tasks per node)."""
    cluster = Cluster()
    for index in range(nodes):
        cluster.start("abc"[index])
    dms = cluster.nodes["a"].client()
    pairs = [Pair(dms, TABLE) for _ in range(tasks)]
    script = tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False)
    script.write("INSERT INTO public.events (note) VALUES ('a change of about forty bytes of text');\n")
    script.close()
    writers = []
    try:
        arns = [pair.run("scale", "full-load-and-cdc", wait=False)["ReplicationTaskArn"] for pair in pairs]
        for pair, arn in zip(pairs, arns):
            wait_for(lambda: dms.describe_replication_tasks(Filters=[{"Name": "replication-task-arn", "Values": [arn]}])
                     ["ReplicationTasks"][0].get("ReplicationTaskStats", {}).get("FullLoadProgressPercent") == 100, "the tasks to stream", seconds=120)
        time.sleep(3)
        spread = sorted(n["RunningTasks"] for n in nodes_of(cluster.nodes["a"]).values())
        writers = [subprocess.Popen([os.environ["PGBENCH"], "-n", "-c", "1", "-R", str(RATE), "-T", str(SECONDS), "-f", script.name,
                                     pg_url(pair.source_db)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for pair in pairs]
        samples = {pair.target_db: [] for pair in pairs}
        started = time.time()
        while time.time() < started + SECONDS:
            for pair in pairs:
                samples[pair.target_db].append(lag(pair.target_db))
            time.sleep(max(0.0, 1 - 0.01 * len(pairs)))
        for writer in writers:
            writer.wait()
        # Every row must arrive once the writers stop.
        for pair in pairs:
            wait_for(lambda: psql("SELECT count(*) FROM public.events", pair.source_db) == psql("SELECT count(*) FROM public.events", pair.target_db),
                     "the targets to catch up", seconds=300)
        written = sum(int(psql("SELECT count(*) FROM public.events", pair.source_db)) for pair in pairs)
        # The first seconds are the writers' ramp-up; the steady part is what counts.
        steady = {db: values[5:] for db, values in samples.items()}
        p50 = [statistics.median(values) for values in steady.values()]
        p99 = [sorted(values)[min(len(values) - 1, round(0.99 * (len(values) - 1)))] for values in steady.values()]
        return p50, p99, written, spread
    finally:
        for writer in writers:
            if writer.poll() is None:
                writer.kill()
        os.unlink(script.name)
        for pair in pairs:
            try:
                pair.close()
            except Exception as error:  # noqa: BLE001 — a pair that cannot be cleaned must not hide the figures
                print(f"cleanup: {error}", file=sys.stderr)
        cluster.close()


def main():
    for nodes in NODES:
        for tasks in TASKS:
            p50, p99, written, spread = trial(nodes, tasks)
            # pgbench falls behind its schedule when the machine cannot write that fast: then the figure is the
            # rate the writers reached, not RATE.
            achieved = written / tasks / SECONDS
            verdict = "yes" if max(p99) < KEEPS_UP else "no"
            if achieved < 0.95 * RATE:
                verdict += f" (the writers reached only {achieved:.0f}/s per task)"
            print(f"RESULT nodes={nodes} tasks={tasks} rate={RATE}/s/task written={written} ({achieved:.0f}/s per task) "
                  f"lag_p50(median of tasks)={statistics.median(p50):.2f} s lag_p99(worst task)={max(p99):.2f} s "
                  f"tasks_per_node={spread} keeps_up={verdict}", flush=True)


if __name__ == "__main__":
    main()
