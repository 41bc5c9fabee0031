"""Three `ferry serve` nodes, each in a network namespace of its own, joined to the host by a veth pair. The
catalog, the source and the target stay on the host, reached through host addresses of their own, so a node
can be cut from the catalog alone (`ip route add prohibit`), from the source or the target alone, from
everything (its link set down), or silently (every packet dropped, `tc … tbf`). Needs root, as
scripts/test.sh runs in CI."""
import contextlib
import os
import socket
import subprocess
import threading
import time
import urllib.parse
import uuid

import pytest

from test_cluster import Cluster, Writer, check_history, install_checker, nodes_of, wait_for, wait_until_equal
from test_dms_api import psql
from test_task_defaults import Pair

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="network namespaces need root (CI runs scripts/test.sh as root)")

DATABASES, CATALOG, TARGET = "10.231.0.1", "10.231.0.2", "10.231.0.3"


def sh(*command):
    subprocess.run(command, check=True, capture_output=True)


class Forwarder:
    """Listens on a host address and relays each connection to the test PostgreSQL server on loopback, which
    listens on 127.0.0.1 only."""

    def __init__(self, address, port):
        self.upstream = ("127.0.0.1", port)
        self.listener = socket.create_server((address, port))
        threading.Thread(target=self.accept, daemon=True).start()

    def accept(self):
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            server = socket.create_connection(self.upstream)
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=self.pump, args=(a, b), daemon=True).start()

    @staticmethod
    def pump(source, sink):
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for end in (source, sink):
                try:
                    end.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def close(self):
        # A thread blocked in accept() keeps the socket listening after a bare close(); shutdown wakes it.
        try:
            self.listener.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.listener.close()


class Namespaces:
    """Namespace i has 10.231.i.2 on its side of a veth whose host side is 10.231.i.1; its default route is the host."""

    def __init__(self, count):
        tag = uuid.uuid4().hex[:5]
        self.names = [f"fy{tag}{i}" for i in range(1, count + 1)]
        for address in (DATABASES, CATALOG, TARGET):
            subprocess.run(["ip", "addr", "add", f"{address}/32", "dev", "lo"], capture_output=True)
        for i, ns in enumerate(self.names, start=1):
            host_side, node_side = f"fyh{tag}{i}", f"fyn{tag}{i}"
            sh("ip", "netns", "add", ns)
            sh("ip", "link", "add", host_side, "type", "veth", "peer", "name", node_side)
            sh("ip", "link", "set", node_side, "netns", ns)
            sh("ip", "addr", "add", f"10.231.{i}.1/24", "dev", host_side)
            sh("ip", "link", "set", host_side, "up")
            sh("ip", "netns", "exec", ns, "ip", "addr", "add", f"10.231.{i}.2/24", "dev", node_side)
            sh("ip", "netns", "exec", ns, "ip", "link", "set", node_side, "up")
            sh("ip", "netns", "exec", ns, "ip", "link", "set", "lo", "up")
            sh("ip", "netns", "exec", ns, "ip", "route", "add", "default", "via", f"10.231.{i}.1")
        self.links = {ns: f"fyn{tag}{i}" for i, ns in enumerate(self.names, start=1)}
        self.host_links = {ns: f"fyh{tag}{i}" for i, ns in enumerate(self.names, start=1)}

    def address(self, i):
        return f"10.231.{i + 1}.2"

    def run_in(self, i):
        return ("ip", "netns", "exec", self.names[i])

    def cut_from(self, i, address):
        sh(*self.run_in(i), "ip", "route", "add", "prohibit", address)

    def heal(self, i, address):
        sh(*self.run_in(i), "ip", "route", "del", "prohibit", address)

    def link(self, i, state):
        sh(*self.run_in(i), "ip", "link", "set", self.links[self.names[i]], state)

    def drop_silently(self, i, dropping=True):
        """Every packet either way is dropped without a word (a token bucket too small for any packet), as
        when a cable is cut: TCP notices only by its timers. `dropping=False` lets them through again."""
        ns = self.names[i]
        action = ["add", "root", "tbf", "rate", "8bit", "burst", "10", "limit", "10"] if dropping else ["del", "root"]
        sh(*self.run_in(i), "tc", "qdisc", action[0], "dev", self.links[ns], *action[1:])
        sh("tc", "qdisc", action[0], "dev", self.host_links[ns], *action[1:])

    def cut(self, i, fault):
        """Cuts node i off: from the catalog alone (`catalog`), its link down (`link`), or silently (`silence`)."""
        if fault == "catalog":
            self.cut_from(i, CATALOG)
        elif fault == "link":
            self.link(i, "down")
        else:
            self.drop_silently(i)

    def heal_fault(self, i, fault):
        """Undoes `cut(i, fault)`."""
        if fault == "catalog":
            self.heal(i, CATALOG)
        elif fault == "link":
            self.link(i, "up")
            sh(*self.run_in(i), "ip", "route", "add", "default", "via", f"10.231.{i + 1}.1")
        else:
            self.drop_silently(i, dropping=False)

    def heal_all(self):
        """Undoes whatever cut a failed test left, so its clean-up can reach the catalog from any node."""
        for i in range(len(self.names)):
            for command in (("ip", "route", "del", "prohibit", address) for address in (DATABASES, CATALOG, TARGET)):
                subprocess.run([*self.run_in(i), *command], capture_output=True)
            self.link(i, "up")
            subprocess.run([*self.run_in(i), "ip", "route", "replace", "default", "via", f"10.231.{i + 1}.1"], capture_output=True)
            for run_in, link in ((self.run_in(i), self.links[self.names[i]]), ((), self.host_links[self.names[i]])):
                subprocess.run([*run_in, "tc", "qdisc", "del", "dev", link, "root"], capture_output=True)

    def close(self):
        for ns in self.names:
            subprocess.run(["ip", "netns", "delete", ns], capture_output=True)
        for address in (DATABASES, CATALOG, TARGET):
            subprocess.run(["ip", "addr", "del", f"{address}/32", "dev", "lo"], capture_output=True)


ITEMS = ("CREATE TABLE public.items (id int PRIMARY KEY, counter int NOT NULL, note text); "
         "INSERT INTO public.items SELECT g, 0, md5(g::text) FROM generate_series(1, 5000) g")


@contextlib.contextmanager
def netns_cluster(count, source_sql, target_apart=False):
    """Nodes n1…n`count`, each in a namespace of its own, on a catalog they reach at CATALOG, and a Pair made by
    `source_sql` whose databases they reach at DATABASES (the target at TARGET with `target_apart`). Yields
    (spaces, cluster, pair) and removes it all after."""
    port = urllib.parse.urlparse(os.environ["FERRY_TEST_POSTGRES_URL"]).port
    spaces = Namespaces(count)
    forwarders, cluster, pair = [], None, None
    try:
        forwarders = [Forwarder(address, port) for address in (DATABASES, CATALOG) + ((TARGET,) if target_apart else ())]
        cluster = Cluster()
        catalog = urllib.parse.urlparse(cluster.catalog_url)._replace(netloc=f"postgres@{CATALOG}:{port}").geturl()
        for i in range(count):
            cluster.start(f"n{i + 1}", catalog, host=spaces.address(i), port=9600, prefix=spaces.run_in(i))
        pair = Pair(cluster.nodes["n1"].client(), source_sql, server=(DATABASES, port), target_server=(TARGET, port) if target_apart else None)
        yield spaces, cluster, pair
    finally:
        try:
            spaces.heal_all()
            if pair:
                pair.dms = cluster.nodes["n1"].client()
                pair.close()
        finally:
            if cluster:
                cluster.close()
            for forwarder in forwarders:
                forwarder.close()
            spaces.close()


def test_a_node_cut_from_the_catalog_from_everything_or_silently_gives_its_task_up_and_another_resumes_it():
    with netns_cluster(3, ITEMS) as (spaces, cluster, pair):
        first = cluster.nodes["n1"]
        load = Writer(pair.source_db)
        try:
            task = pair.run("netns", "full-load-and-cdc", wait=False)
            arn = task["ReplicationTaskArn"]
            wait_for(lambda: pair.tables(arn).get("items", {}).get("TableState") == "Table completed", "the full load")
            install_checker(pair.target_db)
            load.start()

            def holder(asking):
                held = [name for name, n in nodes_of(asking).items() if n["RunningTasks"] == 1 and n["LeaseSecondsLeft"] > 0]
                return held[0] if len(held) == 1 else None

            def applied():
                return int(psql("SELECT count(*) FROM public.items WHERE note = 'new' OR id > 2000000", pair.target_db))

            for fault in ("catalog", "link", "silence"):
                owner_name = wait_for(lambda: holder(first), "one node to hold the task")
                owner = int(owner_name[1:]) - 1
                asking = cluster.nodes[next(n for n in cluster.nodes if n != owner_name)]
                epoch = int(psql("SELECT epoch FROM public.ferry_apply_status", pair.target_db))
                cut = time.time()
                spaces.cut(owner, fault)
                before = applied()
                new_owner = wait_for(lambda: (lambda h: h if h and h != owner_name else None)(holder(asking)), f"another node to take the task ({fault})", seconds=60)
                wait_for(lambda: applied() > before and int(psql("SELECT epoch FROM public.ferry_apply_status", pair.target_db)) > epoch,
                         f"{new_owner} to apply changes", seconds=60)
                moved = time.time() - cut
                print(f"cut from the {fault}: {owner_name} → {new_owner} in {moved:.1f} s")
                assert moved < 60
                if fault == "catalog":
                    # Still connected to the source and target, the cut-off node must have stopped writing before its
                    # lease (renewed at the latest at the cut) can have run out: after that, every batch is the new owner's.
                    stale = psql(f"SELECT count(*) FROM apply_history WHERE epoch <= {epoch} AND at > to_timestamp({cut + 10})", pair.target_db)
                    assert stale == "0", "the node cut from the catalog kept applying"
                spaces.heal_fault(owner, fault)
                wait_for(lambda: nodes_of(asking)[owner_name]["LeaseSecondsLeft"] > 0, f"{owner_name} to renew again after the {fault} healed")
                assert cluster.nodes[owner_name].process.poll() is None, "a cut-off node keeps running and rejoins"

            load.stop()
            wait_until_equal(pair)
            assert check_history(pair.target_db) >= 3
        finally:
            load.stop()


def test_a_node_cut_from_the_target_or_the_source_alone_keeps_its_task_and_catches_up_once_healed():
    """Its lease holds (the catalog still hears it), so no other node takes the task: the owner retries, and
    after the cut heals it applies again under the same epoch. After a cut from the source the server still
    sees the lost connection reading the slot (until its wal_sender_timeout, 60 s); the owner, having checked
    its claim, ends it rather than wait."""
    with netns_cluster(2, ITEMS, target_apart=True) as (spaces, cluster, pair):
        load = Writer(pair.source_db)
        try:
            arn = pair.run("one-sided", "full-load-and-cdc", wait=False)["ReplicationTaskArn"]
            wait_for(lambda: pair.tables(arn).get("items", {}).get("TableState") == "Table completed", "the full load")
            install_checker(pair.target_db)
            load.start()

            def holders():
                return [name for name, n in nodes_of(cluster.nodes["n1"]).items() if n["RunningTasks"] == 1]

            def applied():
                return int(psql("SELECT count(*) FROM apply_history", pair.target_db))

            for side, address in (("target", TARGET), ("source", DATABASES)):
                owner_name = wait_for(lambda: (lambda h: h[0] if len(h) == 1 else None)(holders()), "one node to hold the task")
                owner = int(owner_name[1:]) - 1
                epoch = psql("SELECT epoch FROM public.ferry_apply_status", pair.target_db)
                wait_for(lambda: applied() > 0, "changes to stream")
                spaces.cut_from(owner, address)
                time.sleep(2)
                stalled = applied()
                time.sleep(6)
                assert applied() == stalled, f"cut from the {side}, the owner applies nothing"
                assert holders() == [owner_name], f"cut from the {side} alone, the owner keeps its task"
                healed = time.time()
                spaces.heal(owner, address)
                wait_for(lambda: applied() > stalled, f"{owner_name} to apply again after the cut from the {side} healed", seconds=45)
                print(f"cut from the {side}: applying again {time.time() - healed:.1f} s after the heal")
                assert psql("SELECT epoch FROM public.ferry_apply_status", pair.target_db) == epoch, "the same run went on"

            load.stop()
            wait_until_equal(pair)
            assert check_history(pair.target_db) >= 1
        finally:
            load.stop()
