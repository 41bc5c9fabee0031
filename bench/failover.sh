#!/usr/bin/env bash
# Failover benchmark (release build): two ferry serve nodes on a PostgreSQL catalog; FAULTS (20) faults of
# each kind — kill -9, SIGSTOP past the lease, SIGTERM drain — of the node running a streaming task; the time
# from each fault to the first batch another node applied, p50 / p99, against the 10 s lease as the floor;
# then the target must equal the source. Prints `RESULT …` lines (bench/failover.py has the method).
FAULTS=${FAULTS:-20}
source "$(dirname "$0")/setup.sh"
FERRY_BIN="$FERRY" FERRY_TEST_POSTGRES_URL="$PG/postgres" FAULTS="$FAULTS" python3 bench/failover.py 2>&1 | tee "$OUT/failover.txt"
