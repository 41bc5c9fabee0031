#!/usr/bin/env bash
# Soak (release build): the failover benchmark for longer and under a mixed workload — FAULTS (40) rounds of
# kill -9, SIGSTOP past the lease and SIGTERM drain of the node running a streaming task (120 faults, about
# 40 minutes), while a heartbeat table takes an insert every 50 ms and a 20,000-row table takes inserts,
# updates, key changes and deletes without pause; then both must equal the source and the epochs never go
# back. Prints `RESULT …` lines (bench/failover.py has the method).
FAULTS=${FAULTS:-40}
source "$(dirname "$0")/setup.sh"
FERRY_BIN="$FERRY" FERRY_TEST_POSTGRES_URL="$PG/postgres" FAULTS="$FAULTS" MIXED_WRITES=1 python3 bench/failover.py 2>&1 | tee "$OUT/soak.txt"
