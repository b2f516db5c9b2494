#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Run every test suite of a meson build dir and count individual cases.

Each suite is a cmocka program speaking TAP (CMOCKA_MESSAGE_OUTPUT=TAP) or
any program printing TAP lines. A suite that dies before reporting all of
its plan counts the missing cases as failed. Extra checks (style, the clang
build) are passed with --check NAME=COMMAND and count as one case each.
The last line printed is "N passed, N failed, N skipped".
"""
import argparse
import concurrent.futures
import json
import os
import re
import subprocess
import sys
import time

PLAN = re.compile(r"^1\.\.(\d+)")
RESULT = re.compile(r"^(not ok|ok)\b[^#]*(#\s*(SKIP|skip|TODO).*)?")


def run_suite(test, timeout):
    env = dict(os.environ)
    env.update(test.get("env") or {})
    env["CMOCKA_MESSAGE_OUTPUT"] = "TAP"
    start = time.monotonic()
    try:
        proc = subprocess.run(test["cmd"], cwd=test.get("workdir") or None,
                              env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, timeout=timeout)
        out, rc = proc.stdout.decode(errors="replace"), proc.returncode
    except subprocess.TimeoutExpired as e:
        out = (e.stdout or b"").decode(errors="replace") + "\n# TIMEOUT\n"
        rc = -1
    except OSError as e:
        out, rc = f"# cannot run: {e}\n", -1
    passed = failed = skipped = 0
    plan = None
    failures = []
    for line in out.splitlines():
        m = PLAN.match(line)
        if m:
            plan = int(m.group(1))
            continue
        m = RESULT.match(line)
        if not m:
            continue
        if m.group(3):
            skipped += 1
        elif m.group(1) == "ok":
            passed += 1
        else:
            failed += 1
            failures.append(line)
    seen = passed + failed + skipped
    if plan is not None and seen < plan:
        failed += plan - seen
        failures.append(f"# {plan - seen} case(s) never reported")
    if plan is None and seen == 0:
        # Not a TAP program: one case decided by its exit status.
        if rc == 0:
            passed = 1
        else:
            failed = 1
    elif rc != 0 and failed == 0:
        failed += 1
        failures.append(f"# exit status {rc} after all cases passed")
    return dict(name=test["name"], passed=passed, failed=failed,
                skipped=skipped, rc=rc, out=out, failures=failures,
                secs=time.monotonic() - start)


def run_check(spec):
    name, _, cmd = spec.partition("=")
    start = time.monotonic()
    proc = subprocess.run(cmd, shell=True, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT)
    ok = proc.returncode == 0
    return dict(name=name, passed=int(ok), failed=int(not ok), skipped=0,
                rc=proc.returncode, out=proc.stdout.decode(errors="replace"),
                failures=[] if ok else [f"# {name} failed"],
                secs=time.monotonic() - start)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("builddir")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--timeout", type=int, default=600)
    ap.add_argument("--check", action="append", default=[])
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args()

    tests = json.loads(subprocess.check_output(
        ["meson", "introspect", "--tests", args.builddir]))
    results = []
    with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
        futs = [pool.submit(run_suite, t, t.get("timeout") or args.timeout)
                for t in tests]
        futs += [pool.submit(run_check, c) for c in args.check]
        for f in concurrent.futures.as_completed(futs):
            r = f.result()
            results.append(r)
            status = "FAIL" if r["failed"] else "ok"
            print(f"{status:4} {r['name']:32} {r['passed']:4} passed "
                  f"{r['failed']:3} failed {r['skipped']:3} skipped "
                  f"({r['secs']:.1f}s)", flush=True)
            if r["failed"] or args.verbose:
                for line in r["out"].splitlines()[-60:]:
                    print("    " + line)
    p = sum(r["passed"] for r in results)
    fl = sum(r["failed"] for r in results)
    s = sum(r["skipped"] for r in results)
    print(f"{p} passed, {fl} failed, {s} skipped")
    return 1 if fl or not results else 0


if __name__ == "__main__":
    sys.exit(main())
