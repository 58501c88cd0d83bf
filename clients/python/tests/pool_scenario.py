"""Against a running pool (DSCHED_HOME): submit a cluster of 3, query with a projection, hold and release one,
follow the jobs to completion through their event log, find them in the history, and meet the typed errors.
Prints one JSON object of what it saw; any failed expectation raises (exit status 1 with the traceback).

    python3 pool_scenario.py WORKDIR
"""

import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import dsched  # noqa: E402
from dsched import DschedError, JobAction, JobEventLog, JobEventType, Schedd  # noqa: E402

work = sys.argv[1]
deadline = time.monotonic() + 180


def expect(cond, what):
    if not cond:
        raise AssertionError(what)


def raises(code, fn):
    try:
        fn()
    except DschedError as e:
        expect(e.code == code, "expected %s, got %s: %s" % (code, e.code, e.message))
        return e
    raise AssertionError("expected DschedError %s" % code)


schedd = Schedd()  # the URL from $DSCHED_HOME/run/web.address, the token from `dsched token create`
go = os.path.join(work, "go")
script = os.path.join(work, "wait-for-go.sh")
with open(script, "w") as f:
    # the job waits for the scenario's signal (a file), bounded so that a failed scenario leaves no job behind
    f.write("#!/bin/sh\ni=0\nwhile [ ! -e %s ] && [ $i -lt 1800 ]; do sleep 0.1; i=$((i+1)); done\necho done\n" % go)
os.chmod(script, 0o755)

result = schedd.submit({"executable": script, "output": "py.$(Process).out", "log": "py.log", "+Batch": '"python"'}, count=3, cwd=work)
cluster = result.cluster()
expect(result.num_procs() == 3, "3 procs queued: %r" % result)

# paging: three jobs in pages of two
dsched.schedd._PAGE = 2
ads = schedd.query("ClusterId == %d" % cluster, projection=["Batch", "JobStatus"])
dsched.schedd._PAGE = 1000
expect([a["ProcId"] for a in ads] == [0, 1, 2], "all three, in order: %r" % ads)
expect(all(set(a) <= {"ClusterId", "ProcId", "Batch", "JobStatus"} and a["Batch"] == "python" for a in ads), "projected: %r" % ads)
expect(len(schedd.query("ClusterId == %d" % cluster, ["JobStatus"], limit=2)) == 2, "limit")

held = schedd.act(JobAction.Hold, "%d.1" % cluster, reason="from python")
expect(held["TotalSuccess"] == 1, "held: %r" % held)
[ad] = schedd.query("ClusterId == %d && ProcId == 1" % cluster, ["JobStatus", "HoldReason"])
expect(ad["JobStatus"] == 5 and "from python" in ad["HoldReason"], "held: %r" % ad)
while True:
    # a job held while running keeps its claim until it stopped: the schedd says JOB_STATE, "try again"
    try:
        released = schedd.act("Release", ["%d.1" % cluster])
        break
    except DschedError as e:
        if e.code != "JOB_STATE" or time.monotonic() > deadline:
            raise
        time.sleep(0.1)
expect(released["TotalSuccess"] == 1, "released: %r" % released)

open(go, "w").close()
seen = []
done = set()
with JobEventLog(os.path.join(work, "py.log")) as jel:
    while len(done) < 3:
        expect(time.monotonic() < deadline, "jobs finished in time: %r" % seen)
        for e in jel.events(stop_after=5):
            expect(e.cluster == cluster, "events of our cluster")
            seen.append([e.type.name, e.proc])
            if e.type == JobEventType.JOB_TERMINATED:
                expect(e["ReturnValue"] == 0 and e["TerminatedNormally"] is True, "exit 0: %r" % dict(e.items()))
                done.add(e.proc)
            if e.type == JobEventType.JOB_HELD:
                expect(e.proc == 1 and "from python" in e["HoldReason"], "held event: %r" % dict(e.items()))
            if len(done) == 3:
                break
expect(["JOB_HELD", 1] in seen and ["JOB_RELEASED", 1] in seen, "hold and release logged: %r" % seen)

# the history is written after the terminate event: wait for it, bounded
while True:
    hist = schedd.history("ClusterId == %d" % cluster, ["ExitCode", "Batch"], match=10)
    if len(hist) == 3 or time.monotonic() > deadline:
        break
    time.sleep(0.2)
expect(sorted(h["ProcId"] for h in hist) == [0, 1, 2], "history: %r" % hist)
expect(all(h["ExitCode"] == 0 and set(h) == {"ClusterId", "ProcId", "ExitCode", "Batch"} for h in hist), "history projected: %r" % hist)

missing = raises("JOB_NOT_FOUND", lambda: schedd.act("Remove", "999999.0"))
raises("USAGE", lambda: schedd.act("Vacate", "%d" % cluster))
bad_submit = None
try:
    schedd.submit("executable = /bin/true\nrequest_cpus = (\n", cwd=work)
except DschedError as e:
    bad_submit = e.code
unauth = raises("UNAUTHENTICATED", lambda: Schedd(token="not-a-token").act("Hold", "%d" % cluster))

# without a token (no DSCHED_TOKEN, no dsched command): reads are anonymous, writes refused
os.environ["DSCHED_CLI"] = "/nonexistent/dsched"
anonymous = Schedd()
expect(len(anonymous.history("ClusterId == %d" % cluster, ["ExitCode"])) == 3, "anonymous reads")
raises("UNAUTHENTICATED", lambda: anonymous.submit({"executable": "/bin/true"}, cwd=work))

print(json.dumps({"cluster": cluster, "events": seen, "history": hist, "missing": missing.message,
                  "bad_submit": bad_submit, "unauthenticated": unauth.status}))
