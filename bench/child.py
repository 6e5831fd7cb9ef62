"""`python -I -S bench/child.py REPORT CMD...`: run CMD, then write its wall time, peak RSS and CPU time to REPORT.

Why a launcher: on Linux a child's ru_maxrss starts at the RSS of the process it was forked from (exec keeps
the old image's high-water mark), so children of the benchmark, which holds the test cluster and its objects,
would all report the benchmark's own size. Forked from this small process, CMD reports its own peak.
Standard library only, so it starts in a few milliseconds.
"""
import json
import os
import subprocess
import sys
import time


def main(argv: list[str]) -> int:
    report, cmd = argv[0], argv[1:]
    start = time.perf_counter()
    proc = subprocess.Popen(cmd)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    with open(report, "w") as fh:
        json.dump({"wall": wall, "rss_kb": usage.ru_maxrss, "cpu": usage.ru_utime + usage.ru_stime,
                   "code": code}, fh)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
