"""The user job event log (``log = job.log``), read as htcondor2's ``JobEventLog`` reads it.

Both forms dsched writes are read: HTCondor's text form (``NNN (C.P.S) date time text``, tab-indented body,
``...`` closing each event) and JSON lines (``"$schema": "dsched.userlog.v1"``, HTCondor's event ClassAd names).
Each event gives ``type``, ``cluster``, ``proc``, ``timestamp`` (epoch seconds) and its attributes by name, the
same names in both forms.
"""

import calendar
import datetime
import enum
import json
import os
import re
import time

from .errors import DschedError


class JobEventType(enum.IntEnum):
    """HTCondor's event numbers (its "Job Event Log Codes"), with htcondor2's names."""

    SUBMIT = 0
    EXECUTE = 1
    EXECUTABLE_ERROR = 2
    CHECKPOINTED = 3
    JOB_EVICTED = 4
    JOB_TERMINATED = 5
    IMAGE_SIZE = 6
    SHADOW_EXCEPTION = 7
    GENERIC = 8
    JOB_ABORTED = 9
    JOB_SUSPENDED = 10
    JOB_UNSUSPENDED = 11
    JOB_HELD = 12
    JOB_RELEASED = 13
    NODE_EXECUTE = 14
    NODE_TERMINATED = 15
    POST_SCRIPT_TERMINATED = 16
    REMOTE_ERROR = 21
    JOB_DISCONNECTED = 22
    JOB_RECONNECTED = 23
    JOB_RECONNECT_FAILED = 24
    GRID_SUBMIT = 27
    JOB_AD_INFORMATION = 28
    ATTRIBUTE_UPDATE = 33
    CLUSTER_SUBMIT = 35
    CLUSTER_REMOVE = 36
    FILE_TRANSFER = 40


_MYTYPES = {
    0: "SubmitEvent", 1: "ExecuteEvent", 4: "JobEvictedEvent", 5: "JobTerminatedEvent", 6: "JobImageSizeEvent",
    9: "JobAbortedEvent", 10: "JobSuspendedEvent", 11: "JobUnsuspendedEvent", 12: "JobHeldEvent",
    13: "JobReleaseEvent", 22: "JobDisconnectedEvent", 23: "JobReconnectedEvent", 24: "JobReconnectFailedEvent",
    28: "JobAdInformationEvent",
}


class JobEvent:
    """One event: ``type``, ``cluster``, ``proc``, ``timestamp`` and its attributes (``event["ReturnValue"]``)."""

    def __init__(self, number, cluster, proc, timestamp, attributes):
        try:
            self.type = JobEventType(number)
        except ValueError:
            self.type = number  # a number this client has no name for: kept as is
        self.cluster = cluster
        self.proc = proc
        self.timestamp = timestamp
        self._attrs = attributes

    def __getitem__(self, key):
        for k, v in self._attrs.items():
            if k.lower() == key.lower():  # ClassAd names are case-insensitive
                return v
        raise KeyError(key)

    def get(self, key, default=None):
        try:
            return self[key]
        except KeyError:
            return default

    def __contains__(self, key):
        return any(k.lower() == key.lower() for k in self._attrs)

    def keys(self):
        return self._attrs.keys()

    def items(self):
        return self._attrs.items()

    def __iter__(self):
        return iter(self._attrs)

    def __len__(self):
        return len(self._attrs)

    def __repr__(self):
        name = self.type.name if isinstance(self.type, JobEventType) else self.type
        return "JobEvent(%s, %d.%d, %d)" % (name, self.cluster, self.proc, self.timestamp)


# --- the text form ---------------------------------------------------------------------------------------------

_HEADER = re.compile(
    r"^(\d{3}) \((-?\d+)\.(-?\d+)\.(-?\d+)\) "
    r"(?:(\d{4})-(\d{2})-(\d{2})|(\d{2})/(\d{2})) (\d{2}):(\d{2}):(\d{2})(?:\.\d+)?(Z|[+-]\d{2}:?\d{2})? ?(.*)$"
)
_LABELLED = {
    "Run Remote Usage": "RunRemoteUsage", "Run Local Usage": "RunLocalUsage",
    "Total Remote Usage": "TotalRemoteUsage", "Total Local Usage": "TotalLocalUsage",
    "Run Bytes Sent By Job": "SentBytes", "Run Bytes Received By Job": "ReceivedBytes",
    "Total Bytes Sent By Job": "TotalSentBytes", "Total Bytes Received By Job": "TotalReceivedBytes",
    "MemoryUsage of job (MB)": "MemoryUsage", "ResidentSetSize of job (KB)": "ResidentSetSize",
    "ProportionalSetSize of job (KB)": "ProportionalSetSize",
}


def _number(s):
    try:
        return int(s)
    except ValueError:
        try:
            return float(s)
        except ValueError:
            return s


def _literal(text):
    """A ClassAd literal as a Python value; any other expression stays text."""
    t = text.strip()
    if re.match(r"^-?\d+$", t):
        return int(t)
    if re.match(r"^-?(\d+\.\d*|\.\d+|\d+)([eE][-+]?\d+)?$", t):
        return float(t)
    if t.lower() in ("true", "false"):
        return t.lower() == "true"
    if len(t) >= 2 and t[0] == '"' and t[-1] == '"':
        return re.sub(r'\\(.)', r"\1", t[1:-1])
    return t


def _timestamp(m):
    year = int(m.group(5)) if m.group(5) else datetime.date.today().year  # the legacy form has no year
    month, day = (int(m.group(6)), int(m.group(7))) if m.group(5) else (int(m.group(8)), int(m.group(9)))
    fields = (year, month, day, int(m.group(10)), int(m.group(11)), int(m.group(12)))
    zone = m.group(13)
    if zone is None:
        return int(time.mktime(fields + (0, 0, -1)))  # local time, as HTCondor writes by default
    t = calendar.timegm(fields + (0, 0, 0))
    if zone != "Z":
        sign = -1 if zone[0] == "-" else 1
        digits = zone[1:].replace(":", "")
        t -= sign * (int(digits[:2]) * 3600 + int(digits[2:]) * 60)
    return t


def _iso(epoch):
    return datetime.datetime.utcfromtimestamp(epoch).strftime("%Y-%m-%dT%H:%M:%SZ")


def _reconnect_fields(number, text, notes, a):
    """022/023/024 (the schedd lost, found again or gave up a running job's startd): four-space-indented bodies."""
    if number == 23:
        a["StartdName"] = text[len("Job reconnected to "):].strip() if text.startswith("Job reconnected to ") else ""
        for note in notes:
            m = re.match(r"^\s*(startd|starter) address: (<[^>]*>)\s*$", note)
            if m:
                a["StartdAddr" if m.group(1) == "startd" else "StarterAddr"] = m.group(2)
        return
    reason = notes[0].strip() if notes else ""
    if number == 22:
        a["DisconnectReason"] = reason
        m = re.match(r"^\s*Trying to reconnect to (\S+)(?: (<[^>]*>))?\s*$", notes[1] if len(notes) > 1 else "")
        a["StartdName"] = m.group(1) if m else ""
        if m and m.group(2):
            a["StartdAddr"] = m.group(2)
    else:
        a["Reason"] = reason
        m = re.match(r"^\s*Can not reconnect to (\S+), rescheduling job\s*$", notes[1] if len(notes) > 1 else "")
        a["StartdName"] = m.group(1) if m else ""


def _text_event(lines):
    m = _HEADER.match(lines[0])
    if not m:
        raise ValueError("not an event header: %r" % lines[0][:80])
    number, cluster, proc, subproc = int(m.group(1)), int(m.group(2)), int(m.group(3)), int(m.group(4))
    ts = _timestamp(m)
    a = {"MyType": _MYTYPES.get(number, "GenericEvent"), "EventTypeNumber": number, "EventTime": _iso(ts),
         "Cluster": cluster, "Proc": proc, "Subproc": subproc}
    text = m.group(14)
    body = lines[1:]
    if number == 28:
        for line in body:
            k, eq, v = line.partition("=")
            if eq and k.strip():
                a[k.strip()] = _literal(v)
        return JobEvent(number, cluster, proc, ts, a)
    host = re.match(r"^Job (?:submitted from|executing on) host: (<.*>)", text)
    if host:
        a["SubmitHost" if number == 0 else "ExecuteHost"] = host.group(1)
    evicted = re.match(r"^Job was evicted\. Code (\d+) Subcode (\d+)", text)
    if evicted:
        a["ReasonCode"], a["ReasonSubCode"] = int(evicted.group(1)), int(evicted.group(2))
    size = re.match(r"^Image size of job updated: (\d+)", text)
    if size:
        a["Size"] = int(size.group(1))
    notes = [line[4:] for line in body if line.startswith("    ")]
    if number == 0:
        if notes and notes[0].strip():
            a["LogNotes"] = notes[0]
        if len(notes) > 1 and notes[1].strip() and not notes[1].startswith("WARNING"):
            a["UserNotes"] = notes[1]
    if number in (22, 23, 24):
        _reconnect_fields(number, text, notes, a)
        return JobEvent(number, cluster, proc, ts, a)
    if number == 4:
        a.update(Checkpointed=False, TerminatedAndRequeued=False, TerminatedNormally=False)
    free = []  # body lines that are no labelled field: the reason of held/released/aborted/evicted events
    resources = False
    for raw in body:
        line = raw.strip()
        if not raw.startswith("\t"):
            continue
        if resources:
            row = re.match(r"^(\w+)\s*(?:\(\w+\))?\s*:\s*(\S+)\s+(\S+)(?:\s+(\S+))?(?:\s+(.*))?$", line)
            if row:
                name = row.group(1)
                a[name + "Usage"] = _number(row.group(2))
                a["Request" + name] = _number(row.group(3))
                if row.group(4):
                    a[name] = _number(row.group(4))
                if row.group(5):
                    a["Assigned" + name] = row.group(5).strip()
                continue
        if line.startswith("Partitionable Resources"):
            resources = True
            continue
        lab = re.match(r"^(.*?)\s+-\s+(.+)$", line)
        if lab and lab.group(2) in _LABELLED:
            v = lab.group(1).strip()
            a[_LABELLED[lab.group(2)]] = v if v.startswith("Usr") else _number(v)
            continue
        t = re.match(r"^\((\d)\) (Normal|Abnormal) termination \((?:return value|signal) (-?\d+)\)$", line)
        if t:
            a["TerminatedNormally"] = t.group(2) == "Normal"
            a["ReturnValue" if t.group(2) == "Normal" else "TerminatedBySignal"] = int(t.group(3))
            continue
        core = re.match(r"^\(1\) Corefile in: (.*)$", line)
        if core:
            a["CoreFile"] = core.group(1)
            continue
        if line in ("(0) No core file", "(0) CPU times"):
            continue
        if line == "(0) Job terminated and was requeued":
            a["TerminatedAndRequeued"] = True
            continue
        if line == "(1) Job was checkpointed.":
            a["Checkpointed"] = True
            continue
        code = re.match(r"^Code (-?\d+) Subcode (-?\d+)$", line)
        if code and number == 12:
            a["HoldReasonCode"], a["HoldReasonSubCode"] = int(code.group(1)), int(code.group(2))
            continue
        slot = re.match(r"^SlotName: (.*)$", line)
        if slot:
            a["SlotName"] = slot.group(1)
            continue
        pids = re.match(r"^Number of processes actually suspended: (\d+)$", line)
        if pids:
            a["NumberOfPIDs"] = int(pids.group(1))
            continue
        free.append(line)
    if free:
        reason = free[0][len("Reason: "):] if free[0].startswith("Reason: ") else free[0]
        if number == 12:
            a["HoldReason"] = reason
        elif number in (4, 9, 13):
            a["Reason"] = reason
    return JobEvent(number, cluster, proc, ts, a)


def _json_event(line):
    o = json.loads(line)
    if not isinstance(o, dict) or not isinstance(o.get("EventTypeNumber"), int):
        raise ValueError("not an event: %r" % line[:80])
    when = o.get("EventTime", "")
    try:
        ts = calendar.timegm(time.strptime(when[:19], "%Y-%m-%dT%H:%M:%S"))
    except ValueError:
        raise ValueError("bad EventTime %r" % when)
    attrs = {k: v for k, v in o.items() if k != "$schema"}
    return JobEvent(o["EventTypeNumber"], int(o.get("Cluster", -1)), int(o.get("Proc", -1)), ts, attrs)


def parse_events(text):
    """Every complete event of a log's text, either form (a helper for tests and one-shot reads)."""
    reader = _Reader()
    events = reader.feed(text.encode("utf-8"))
    return events


class _Reader:
    """Splits bytes into events, keeping an unfinished event (or a split character) for the next read."""

    def __init__(self):
        self.buf = b""
        self.lines = []
        self.format = None
        self.errors = []

    def feed(self, data):
        self.buf += data
        out = []
        while True:
            nl = self.buf.find(b"\n")
            if nl < 0:
                break
            raw, self.buf = self.buf[:nl], self.buf[nl + 1:]
            line = raw.decode("utf-8", "replace").rstrip("\r")
            if self.format is None:
                if not line.strip():
                    continue
                self.format = "jsonl" if line.lstrip().startswith("{") else "text"
            try:
                if self.format == "jsonl":
                    if line.strip():
                        out.append(_json_event(line))
                elif line == "...":
                    if self.lines:
                        out.append(_text_event(self.lines))
                    self.lines = []
                elif self.lines or line.strip():
                    self.lines.append(line)
            except ValueError as e:
                self.errors.append(str(e))  # an event that cannot be read is skipped, as HTCondor's reader does
                self.lines = []
        return out


class JobEventLog:
    """Events of a user log, in order; ``events(stop_after=N)`` follows the file for new ones (htcondor2's signature).

    ``stop_after=None`` waits forever, ``0`` returns at the end of what is written, ``N`` waits up to N seconds
    for each next event. A log that is replaced or truncated is read again from its start.
    """

    poll_interval = 0.1

    def __init__(self, filename):
        self.filename = os.fspath(filename)
        self._file = None
        self._ino = None
        self._reader = _Reader()

    def _open(self):
        try:
            f = open(self.filename, "rb")
        except FileNotFoundError:
            return False
        except OSError as e:
            raise DschedError("JOB_FILE_REFUSED", "cannot read %s: %s" % (self.filename, e))
        self._file, self._ino, self._reader = f, os.fstat(f.fileno()).st_ino, _Reader()
        return True

    def _read(self):
        if self._file is None and not self._open():
            return []
        try:
            st = os.stat(self.filename)
            if st.st_ino != self._ino or st.st_size < self._file.tell():
                self.close()
                if not self._open():
                    return []
        except FileNotFoundError:
            pass
        out = []
        while True:
            chunk = self._file.read(1 << 20)
            if not chunk:
                return out
            out += self._reader.feed(chunk)

    @property
    def errors(self):
        """What could not be read (those events were skipped)."""
        return list(self._reader.errors)

    def events(self, stop_after=None):
        while True:
            deadline = None if stop_after is None else time.monotonic() + stop_after
            got = self._read()
            while not got:
                if deadline is not None and time.monotonic() >= deadline:
                    return
                time.sleep(self.poll_interval if deadline is None else max(0, min(self.poll_interval, deadline - time.monotonic())))
                got = self._read()
            for e in got:
                yield e

    def __iter__(self):
        return self.events(None)

    def close(self):
        if self._file is not None:
            self._file.close()
            self._file = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
