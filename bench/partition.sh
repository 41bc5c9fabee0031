#!/usr/bin/env bash
# Partition benchmark (release build, as root): three ferry serve nodes in network namespaces on a PostgreSQL
# catalog; FAULTS (20) cuts of each kind — from the catalog alone, link down, every packet dropped silently —
# of the node running a streaming task; the time from each cut to the first batch another node applied, p50 /
# p99, against the 10 s lease as the floor; then the target must equal the source. Prints `RESULT …` lines
# (bench/partition.py has the method).
FAULTS=${FAULTS:-20}
source "$(dirname "$0")/setup.sh"
FERRY_BIN="$FERRY" FERRY_TEST_POSTGRES_URL="$PG/postgres" FAULTS="$FAULTS" python3 bench/partition.py 2>&1 | tee "$OUT/partition.txt"
