"""The pool's job queue over its HTTP API (docs/http-api.md), named after htcondor2's ``Schedd``."""

import enum
import json
import os
import re
import shlex
import ssl
import subprocess
import urllib.error
import urllib.parse
import urllib.request

from .errors import DschedError

# the API's largest page (schemas.ts: limit <= 5000); a smaller page keeps each answer quick
_PAGE = 1000
_MAX_LIMIT = 5000
_JOB_ID = re.compile(r"^\d{1,15}(\.\d{1,9})?$")
_STATUS_CODES = {400: "USAGE", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED", 404: "NOT_FOUND", 413: "INPUT_TOO_LARGE", 429: "QUERY_TOO_EXPENSIVE", 503: "DAEMON_UNREACHABLE"}


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """The API never redirects: following one would hand the bearer token to wherever it points."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


def _opener(url, ssl_context):
    handlers = [_NoRedirect(), urllib.request.HTTPSHandler(context=ssl_context)]
    host = urllib.parse.urlsplit(url).hostname or ""
    if host in ("localhost", "::1") or host.startswith("127."):
        handlers.append(urllib.request.ProxyHandler({}))  # a proxy from the environment would see the token
    return urllib.request.build_opener(*handlers)


class JobAction(enum.Enum):
    """The actions the API offers, with htcondor2's ``JobAction`` names."""

    Hold = "hold"
    Release = "release"
    Remove = "remove"


def _home():
    return os.environ.get("DSCHED_HOME") or os.path.join(os.path.expanduser("~"), ".dsched")


def find_url():
    """The pool's web URL: ``DSCHED_WEB_URL``, else ``$DSCHED_HOME/run/web.address`` (``host:port``) as ``dsched start`` writes it."""
    if os.environ.get("DSCHED_WEB_URL"):
        return os.environ["DSCHED_WEB_URL"].rstrip("/")
    path = os.path.join(_home(), "run", "web.address")
    try:
        with open(path, encoding="utf-8") as f:
            address = f.readline().strip()
    except OSError:
        raise DschedError("POOL_NOT_RUNNING", "no web daemon address at %s (is the pool started, with web in DAEMON_LIST?)" % path)
    host, _, port = address.rpartition(":")
    if ":" in host and not host.startswith("["):
        host = "[%s]" % host  # an IPv6 address
    return "http://%s:%s" % (host, port)


def create_token():
    """The user's token as the CLIs get it: ``dsched token create`` (the command is ``DSCHED_CLI``, default ``dsched``)."""
    cmd = shlex.split(os.environ.get("DSCHED_CLI", "dsched")) + ["token", "create"]
    # DSCHED_<NAME> variables are configuration for the CLI: the client's own ones are not knobs
    env = {k: v for k, v in os.environ.items() if k not in ("DSCHED_TOKEN", "DSCHED_CLI", "DSCHED_WEB_URL")}
    try:
        r = subprocess.run(cmd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise DschedError("UNAUTHENTICATED", "could not run %s to get a token: %s (set DSCHED_TOKEN)" % (" ".join(cmd), e))
    if r.returncode != 0:
        text = r.stderr.decode("utf-8", "replace").strip()
        m = re.match(r"^error\[([A-Z_]+)\]: (.*)", text)
        raise DschedError(m.group(1), m.group(2)) if m else DschedError("UNAUTHENTICATED", "dsched token create failed: %s" % text)
    return r.stdout.decode("utf-8").strip()


class SubmitResult:
    """What ``Schedd.submit`` queued (htcondor2's ``SubmitResult``)."""

    def __init__(self, cluster, procs, warnings):
        self._cluster = cluster
        self._procs = procs
        self.warnings = list(warnings)

    def cluster(self):
        return self._cluster

    def first_proc(self):
        return 0

    def num_procs(self):
        return self._procs

    def __repr__(self):
        return "SubmitResult(cluster=%d, procs=%d)" % (self._cluster, self._procs)


def _value(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def submit_text(description, count=None):
    """A submit description as text: a dict's ``key = value`` lines (as htcondor2's ``Submit``), then ``queue count``."""
    if isinstance(description, dict):
        count = count or None
        lines = []
        for k, v in description.items():
            if "\n" in str(k) or "\n" in _value(v):
                raise DschedError("USAGE", "submit command %r: a value holds a newline" % k)
            lines.append("%s = %s" % (k, _value(v)))
        return "\n".join(lines) + "\nqueue %d\n" % (1 if count is None else count)
    if count == 0:
        count = None  # as htcondor2: the description's own queue statement
    text = str(description)
    if re.search(r"^\s*queue\b", text, re.I | re.M):
        if count is not None:
            raise DschedError("USAGE", "the description has its own queue statement; give no count")
        return text
    return text.rstrip("\n") + "\nqueue %d\n" % (1 if count is None else count)


class Schedd:
    """The pool's schedd, reached through its web daemon.

    ``url`` defaults to the pool of ``DSCHED_HOME`` (see ``find_url``); ``token`` to ``DSCHED_TOKEN``, else
    ``dsched token create``; with no token at all, only reads are made, anonymously.
    """

    def __init__(self, url=None, token=None, timeout=60, ssl_context=None):
        self.url = (url or find_url()).rstrip("/")
        self._token = token or os.environ.get("DSCHED_TOKEN") or None
        self._token_from_cli = False
        self._timeout = timeout
        self._ssl = ssl_context or ssl.create_default_context()
        self._opener = _opener(self.url, self._ssl)

    def _bearer(self, write):
        if self._token is None:
            try:
                self._token = create_token()
                self._token_from_cli = True
            except DschedError:
                if write:
                    raise
                self._token = ""  # reads go anonymously
        return self._token

    def _request(self, method, path, params=None, body=None):
        url = self.url + "/v1" + path
        if params:
            url += "?" + urllib.parse.urlencode({k: v for k, v in params.items() if v is not None})
        for attempt in (0, 1):
            headers = {"Accept": "application/json"}
            token = self._bearer(method != "GET")
            if token:
                headers["Authorization"] = "Bearer " + token
            data = None
            if body is not None:
                data = json.dumps(body).encode("utf-8")
                headers["Content-Type"] = "application/json"
            req = urllib.request.Request(url, data=data, method=method, headers=headers)
            try:
                with self._opener.open(req, timeout=self._timeout) as r:
                    return json.loads(r.read().decode("utf-8"))
            except urllib.error.HTTPError as e:
                err = self._error(e)
                # a token made by the CLI expires: make a new one once
                if e.code == 401 and self._token_from_cli and attempt == 0:
                    self._token = None
                    continue
                raise err
            except urllib.error.URLError as e:
                raise DschedError("DAEMON_UNREACHABLE", "cannot reach the web daemon at %s: %s" % (self.url, e.reason))
            except ValueError as e:
                raise DschedError("RPC_MALFORMED", "the web daemon's answer is not JSON: %s" % e)

    @staticmethod
    def _error(e):
        try:
            err = json.loads(e.read().decode("utf-8"))["error"]
            return DschedError(err["code"], err["message"], err.get("hint"), e.code)
        except (ValueError, KeyError, TypeError):
            return DschedError(_STATUS_CODES.get(e.code, "UNKNOWN"), "HTTP %d %s" % (e.code, e.reason), None, e.code)

    def xquery(self, constraint="true", projection=(), limit=None, owner=None):
        """The job ads matching ``constraint``, page after page, in id order (at most ``limit``)."""
        after = None
        left = None if limit is None or limit < 0 else limit
        while left is None or left > 0:
            page = self._request("GET", "/jobs", {
                "constraint": None if str(constraint).strip().lower() == "true" else str(constraint),
                "projection": ",".join(projection) if projection else None,
                "owner": owner,
                "after": after,
                "limit": _PAGE if left is None else min(left, _PAGE),
            })
            for ad in page["jobs"]:
                yield ad
            if left is not None:
                left -= len(page["jobs"])
            after = page.get("next")
            if not after or not page["jobs"]:
                return

    def query(self, constraint="true", projection=(), limit=None, owner=None):
        """The matching job ads as a list of dicts (``dq -json``'s form), all pages read."""
        return list(self.xquery(constraint, projection, limit, owner))

    def history(self, constraint="true", projection=(), match=None, owner=None):
        """Finished jobs, newest first (at most ``match``, the API's limit being 5000)."""
        limit = _MAX_LIMIT if match is None or match < 0 else min(match, _MAX_LIMIT)
        if limit == 0:
            return []
        ads = self._request("GET", "/history", {
            "constraint": None if str(constraint).strip().lower() == "true" else str(constraint),
            "owner": owner,
            "limit": limit,
        })["jobs"]
        if not projection:
            return ads
        # the route has no projection: keep the asked attributes (ClassAd names are case-insensitive) and the id
        want = {a.lower() for a in projection} | {"clusterid", "procid"}
        return [{k: v for k, v in ad.items() if k.lower() in want} for ad in ads]

    def submit(self, description, count=None, cwd=None):
        """Queue a submit description (text, a dict of submit commands, or a ``Submit``); returns a ``SubmitResult``.

        Files it names are relative to ``cwd`` (default: this process's working directory, as dsubmit's).
        """
        text = description.text(count) if isinstance(description, Submit) else submit_text(description, count)
        r = self._request("POST", "/submit", body={"text": text, "cwd": os.path.abspath(cwd or os.getcwd())})
        return SubmitResult(r["cluster"], r["procs"], r.get("warnings", []))

    def act(self, action, job_spec, reason=None):
        """Hold, release or remove jobs: ``job_spec`` is an id (``"12"``, ``"12.3"``), a list of ids, or a constraint.

        Returns ``{"TotalSuccess", "TotalError", "matched", "results"}`` (each result's ``code`` says why a job
        was not acted on); raises ``DschedError`` when named jobs all failed, with their code when they share one
        (``JOB_NOT_FOUND`` when none of them is in the queue), else ``JOB_STATE``.
        """
        name = _action_name(action)
        ids, constraint = _job_spec(job_spec)
        body = {"action": name, "ids": ids}
        if constraint is not None:
            body["constraint"] = constraint
        if reason is not None:
            body["reason"] = str(reason)
        r = self._request("POST", "/jobs/actions", body=body)
        ok = sum(1 for x in r["results"] if x["ok"])
        out = {"TotalSuccess": ok, "TotalError": len(r["results"]) - ok, "matched": r["matched"], "results": r["results"]}
        if ids and ok == 0 and r["results"]:
            errors = [x["error"] for x in r["results"]]
            # the jobs' own code when they all share one; else (mixed reasons) the state of the jobs is the cause
            codes = {x.get("code") or "JOB_STATE" for x in r["results"]}
            code = codes.pop() if len(codes) == 1 else "JOB_STATE"
            raise DschedError(code, "; ".join(errors))
        return out


def _action_name(action):
    if isinstance(action, JobAction):
        return action.value
    for a in JobAction:
        if str(action).lower() in (a.name.lower(), a.value):
            return a.value
    raise DschedError("USAGE", "unknown action %r: one of %s" % (action, ", ".join(a.name for a in JobAction)))


def _job_spec(spec):
    if isinstance(spec, int) and not isinstance(spec, bool):
        return [str(spec)], None
    if isinstance(spec, str):
        if _JOB_ID.match(spec.strip()):
            return [spec.strip()], None
        return [], spec
    ids = [str(x).strip() for x in spec]
    bad = [x for x in ids if not _JOB_ID.match(x)]
    if bad or not ids:
        raise DschedError("USAGE", "not job ids: %s" % (", ".join(bad) or "(none)"))
    return ids, None


class Submit(dict):
    """A submit description built from commands (htcondor2's ``Submit``): ``Submit({"executable": "/bin/sleep"})``."""

    def __init__(self, commands=None, **kw):
        super().__init__()
        if isinstance(commands, str):
            raise DschedError("USAGE", "give Schedd.submit the text itself, or a dict of commands")
        self.update(commands or {}, **kw)

    def text(self, count=None):
        return submit_text(dict(self), count)

    def __str__(self):
        return submit_text(dict(self), None)
