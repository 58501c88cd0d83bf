"""Schedd against a small fake of the HTTP API (standard library unittest): paging, the typed errors, no
redirects followed with the token, the URL from $DSCHED_HOME/run/web.address, submit descriptions from dicts."""

import http.server
import json
import os
import sys
import tempfile
import threading
import unittest
import unittest.mock
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from dsched import DschedError, JobAction, Schedd, Submit  # noqa: E402
from dsched.schedd import find_url, submit_text  # noqa: E402

JOBS = [{"ClusterId": 5, "ProcId": p, "JobStatus": 1} for p in range(5)]


class FakeApi(http.server.BaseHTTPRequestHandler):
    seen = []

    def log_message(self, *args):
        pass

    def reply(self, status, body, headers=()):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        u = urllib.parse.urlsplit(self.path)
        q = dict(urllib.parse.parse_qsl(u.query))
        FakeApi.seen.append((u.path, q, self.headers.get("Authorization")))
        if u.path == "/v1/jobs":
            after = int(q["after"].split(".")[1]) if "after" in q else -1
            page = [j for j in JOBS if j["ProcId"] > after][: int(q["limit"])]
            more = page and page[-1]["ProcId"] < JOBS[-1]["ProcId"]
            return self.reply(200, {"jobs": page, "next": "5.%d" % page[-1]["ProcId"] if more else None})
        if u.path == "/v1/history":
            return self.reply(200, {"jobs": [{"ClusterId": 5, "ProcId": 0, "ExitCode": 0, "Cmd": "/bin/true"}], "next": None})
        if u.path == "/v1/redirect":
            return self.reply(302, {}, [("Location", "http://127.0.0.2:1/steal")])
        self.reply(404, {"error": {"code": "JOB_NOT_FOUND", "message": "job 9.0 is neither in the queue nor in the history", "hint": ""}})

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        FakeApi.seen.append((self.path, body, self.headers.get("Authorization")))
        if self.path == "/v1/jobs/actions":
            # 8.x: another user's job (the code, not the wording, says so); 7.x: from an API without codes
            def result(i):
                if i.startswith("8."):
                    return {"id": i, "ok": False, "error": "job %s is someone else's" % i, "code": "PERMISSION_DENIED"}
                if i.startswith("7."):
                    return {"id": i, "ok": False, "error": "job %s is not in the queue" % i}
                return {"id": i, "ok": False, "error": "job %s is not in the queue" % i, "code": "JOB_NOT_FOUND"}
            return self.reply(200, {"matched": 0, "results": [result(i) for i in body["ids"]]})
        self.reply(400, {"error": {"code": "SUBMIT_SYNTAX", "message": "line 1: what is this", "hint": "see docs"}})


class WithFakeApi(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), FakeApi)
        threading.Thread(target=cls.server.serve_forever, daemon=True).start()
        cls.url = "http://127.0.0.1:%d" % cls.server.server_address[1]

    @classmethod
    def tearDownClass(cls):
        cls.server.shutdown()
        cls.server.server_close()

    def setUp(self):
        FakeApi.seen.clear()
        self.schedd = Schedd(self.url, token="tok")

    def test_query_reads_every_page(self):
        import dsched.schedd as mod
        old, mod._PAGE = mod._PAGE, 2
        try:
            ads = self.schedd.query("JobStatus == 1", ["JobStatus"])
        finally:
            mod._PAGE = old
        self.assertEqual([a["ProcId"] for a in ads], [0, 1, 2, 3, 4])
        self.assertEqual([s[1].get("after") for s in FakeApi.seen], [None, "5.1", "5.3"])
        self.assertEqual(FakeApi.seen[0][1]["constraint"], "JobStatus == 1")
        self.assertEqual(FakeApi.seen[0][2], "Bearer tok")
        self.assertEqual(len(self.schedd.query(limit=3)), 3)

    def test_history_projects(self):
        self.assertEqual(self.schedd.history("true", ["exitcode"], match=1), [{"ClusterId": 5, "ProcId": 0, "ExitCode": 0}])

    def test_errors_are_typed(self):
        with self.assertRaises(DschedError) as e:
            self.schedd._request("GET", "/jobs/9.0")
        self.assertEqual((e.exception.code, e.exception.status), ("JOB_NOT_FOUND", 404))
        with self.assertRaises(DschedError) as e:
            self.schedd.submit("executable = x\nqueue\n", cwd="/tmp")
        self.assertEqual((e.exception.code, e.exception.hint), ("SUBMIT_SYNTAX", "see docs"))
        with self.assertRaises(DschedError) as e:
            self.schedd.act(JobAction.Remove, ["9.0", "9.1"])
        self.assertEqual(e.exception.code, "JOB_NOT_FOUND")
        with self.assertRaises(DschedError) as e:
            self.schedd.act(JobAction.Hold, ["8.0", "8.1"])
        self.assertEqual((e.exception.code, str(e.exception.message)), ("PERMISSION_DENIED", "job 8.0 is someone else's; job 8.1 is someone else's"))
        with self.assertRaises(DschedError) as e:
            self.schedd.act(JobAction.Hold, ["8.0", "9.0"])
        self.assertEqual(e.exception.code, "JOB_STATE")
        with self.assertRaises(DschedError) as e:
            self.schedd.act(JobAction.Hold, ["7.0"])
        self.assertEqual(e.exception.code, "JOB_STATE")
        with self.assertRaises(DschedError) as e:
            self.schedd.act("Suspend", "9")
        self.assertEqual(e.exception.code, "USAGE")

    def test_a_redirect_is_not_followed(self):
        with self.assertRaises(DschedError) as e:
            self.schedd._request("GET", "/redirect")
        self.assertEqual(e.exception.status, 302)
        self.assertEqual([s[0] for s in FakeApi.seen], ["/v1/redirect"])

    def test_unreachable(self):
        with self.assertRaises(DschedError) as e:
            Schedd("http://127.0.0.1:1", token="t").query()
        self.assertEqual(e.exception.code, "DAEMON_UNREACHABLE")


class Discovery(unittest.TestCase):
    def test_url_from_the_pool_home(self):
        with tempfile.TemporaryDirectory() as home:
            os.mkdir(os.path.join(home, "run"))
            env = {"DSCHED_HOME": home}
            with unittest.mock.patch.dict(os.environ, env, clear=False):
                os.environ.pop("DSCHED_WEB_URL", None)
                with self.assertRaises(DschedError) as e:
                    find_url()
                self.assertEqual(e.exception.code, "POOL_NOT_RUNNING")
                with open(os.path.join(home, "run", "web.address"), "w") as f:
                    f.write("127.0.0.1:41721\n1234\n")
                self.assertEqual(find_url(), "http://127.0.0.1:41721")
                with open(os.path.join(home, "run", "web.address"), "w") as f:
                    f.write("::1:41721\n")
                self.assertEqual(find_url(), "http://[::1]:41721")


class Descriptions(unittest.TestCase):
    def test_dict_and_text(self):
        self.assertEqual(submit_text({"executable": "/bin/true", "hold": True, "+Note": '"x"'}, 3),
                         'executable = /bin/true\nhold = true\n+Note = "x"\nqueue 3\n')
        self.assertEqual(str(Submit(executable="/bin/true")), "executable = /bin/true\nqueue 1\n")
        self.assertEqual(submit_text("executable = /bin/true\n", 2), "executable = /bin/true\nqueue 2\n")
        self.assertEqual(submit_text("executable = /bin/true\nqueue 4\n", 0), "executable = /bin/true\nqueue 4\n")
        with self.assertRaises(DschedError):
            submit_text("executable = /bin/true\nqueue 4\n", 2)
        with self.assertRaises(DschedError):
            submit_text({"arguments": "a\nqueue 1000"})


if __name__ == "__main__":
    unittest.main()
