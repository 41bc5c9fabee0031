"""The application for the cutover benchmarks where pgbench cannot write: RATE transactions a second for SECONDS,
each an account update and an insert without an id into the history, fed as SQL to a database's own command-line
client (its argv after `--`) over one connection. Like `pgbench -R`, a transaction that is held up (a freeze) does
not lower the schedule: the ones due meanwhile follow at once. A refused one (the old database fenced) is reported
by the client and the rest go on.

    python3 bench/paced_writer.py RATE SECONDS ACCOUNTS -- mariadb --force -h … app
"""
import random
import subprocess
import sys
import time


def main():
    rate, seconds, accounts = float(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3])
    client = subprocess.Popen(sys.argv[sys.argv.index("--") + 1:], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, text=True, bufsize=1)
    start, sent = time.monotonic(), 0
    while True:
        due = start + sent / rate
        if due >= start + seconds:
            break
        time.sleep(max(0.0, due - time.monotonic()))
        account, delta = random.randint(1, accounts), random.randint(-5000, 5000)
        client.stdin.write(f"BEGIN; UPDATE app.accounts SET balance = balance + {delta} WHERE id = {account}; "
                           f"INSERT INTO app.history (aid, delta) VALUES ({account}, {delta}); COMMIT;\n")
        sent += 1
    client.stdin.close()
    client.wait()


if __name__ == "__main__":
    main()
