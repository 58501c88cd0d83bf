"""The event-log reader on HTCondor's text form and dsched's JSON lines (standard library unittest).

DSCHED_TEST_TEXT_LOG and DSCHED_TEST_JSONL_LOG, when set, name the same events written by dsched's own writers
(the integration test makes them): both forms must read as the same events with the same attributes.
"""

import os
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from dsched import JobEventLog, JobEventType  # noqa: E402
from dsched.event_log import parse_events  # noqa: E402

TEXT = (
    "000 (012.000.000) 2026-12-06 08:00:00Z Job submitted from host: <127.0.0.1:9618?addrs=127.0.0.1-9618>\n"
    "    DAG Node: a\n"
    "...\n"
    "001 (012.000.000) 2026-12-06 08:00:05Z Job executing on host: <10.0.0.2:4000>\n"
    "\tSlotName: slot1_1@node2\n"
    "...\n"
    "012 (012.000.000) 2026-12-06 08:00:06+01:00 Job was held.\n"
    "\tvia dhold | by root\n"
    "\tCode 1 Subcode 0\n"
    "...\n"
    "013 (012.000.000) 12/06 08:00:07Z Job was released.\n"
    "\tvia drelease\n"
    "...\n"
    "005 (012.000.000) 2026-12-06 08:00:09Z Job terminated.\n"
    "\t(1) Normal termination (return value 3)\n"
    "\t\tUsr 0 00:00:01, Sys 0 00:00:00  -  Run Remote Usage\n"
    "\t\tUsr 0 00:00:00, Sys 0 00:00:00  -  Run Local Usage\n"
    "\t\tUsr 0 00:00:01, Sys 0 00:00:00  -  Total Remote Usage\n"
    "\t\tUsr 0 00:00:00, Sys 0 00:00:00  -  Total Local Usage\n"
    "\t12  -  Run Bytes Sent By Job\n"
    "\t34  -  Run Bytes Received By Job\n"
    "\t12  -  Total Bytes Sent By Job\n"
    "\t34  -  Total Bytes Received By Job\n"
    "\tPartitionable Resources :    Usage  Request Allocated\n"
    "\t   Cpus                 :     0.50        1         1\n"
    "\t   Memory (MB)          :       20      128       128\n"
    "...\n"
    "028 (012.000.000) 2026-12-06 08:00:10Z Job ad information event triggered.\n"
    "Owner = \"alice\"\n"
    "ExitCode = 3\n"
    "...\n"
    "009 (012.001.000) 2026-12-06 08:00:11Z Job was aborted.\n"
    "\tvia drm\n"
    "...\n"
)

JSONL = (
    '{"$schema":"dsched.userlog.v1","MyType":"SubmitEvent","EventTypeNumber":0,"EventTime":"2026-12-06T08:00:00Z",'
    '"Cluster":12,"Proc":0,"Subproc":0,"SubmitHost":"<127.0.0.1:9618>"}\n'
    '{"$schema":"dsched.userlog.v1","MyType":"JobTerminatedEvent","EventTypeNumber":5,"EventTime":"2026-12-06T08:00:09Z",'
    '"Cluster":12,"Proc":0,"Subproc":0,"TerminatedNormally":true,"ReturnValue":3}\n'
)


class TextForm(unittest.TestCase):
    def test_reads_every_event_with_its_attributes(self):
        events = parse_events(TEXT)
        self.assertEqual([e.type for e in events], [JobEventType.SUBMIT, JobEventType.EXECUTE, JobEventType.JOB_HELD,
                                                     JobEventType.JOB_RELEASED, JobEventType.JOB_TERMINATED,
                                                     JobEventType.JOB_AD_INFORMATION, JobEventType.JOB_ABORTED])
        submit, execute, held, released, term, ad, aborted = events
        self.assertEqual((submit.cluster, submit.proc, submit.timestamp), (12, 0, 1796544000))
        self.assertEqual(submit["SubmitHost"], "<127.0.0.1:9618?addrs=127.0.0.1-9618>")
        self.assertEqual(submit["LogNotes"], "DAG Node: a")
        self.assertEqual(execute["ExecuteHost"], "<10.0.0.2:4000>")
        self.assertEqual(execute["SlotName"], "slot1_1@node2")
        self.assertEqual(held.timestamp, 1796544006 - 3600)  # the offset is honoured
        self.assertEqual((held["HoldReason"], held["HoldReasonCode"], held["HoldReasonSubCode"]), ("via dhold | by root", 1, 0))
        self.assertEqual(released["Reason"], "via drelease")
        self.assertEqual(time.gmtime(released.timestamp)[1:6], (12, 6, 8, 0, 7))  # the legacy MM/DD form
        self.assertIs(term["TerminatedNormally"], True)
        self.assertEqual(term["returnvalue"], 3)  # names are case-insensitive, as ClassAd names
        self.assertEqual((term["SentBytes"], term["ReceivedBytes"]), (12, 34))
        self.assertEqual(term["RunRemoteUsage"], "Usr 0 00:00:01, Sys 0 00:00:00")
        self.assertEqual((term["CpusUsage"], term["RequestCpus"], term["Cpus"], term["RequestMemory"]), (0.5, 1, 1, 128))
        self.assertEqual((ad["Owner"], ad["ExitCode"]), ("alice", 3))
        self.assertEqual((aborted.proc, aborted["Reason"]), (1, "via drm"))
        self.assertNotIn("HoldReason", term)

    def test_abnormal_termination(self):
        [e] = parse_events("005 (001.002.000) 2026-01-01 00:00:00Z Job terminated.\n"
                           "\t(0) Abnormal termination (signal 9)\n\t(0) No core file\n...\n")
        self.assertEqual((e.cluster, e.proc, e["TerminatedNormally"], e["TerminatedBySignal"]), (1, 2, False, 9))
        self.assertNotIn("ReturnValue", e)

    def test_crlf_and_an_unreadable_event_is_skipped(self):
        events = parse_events("garbage header\r\n...\r\n" + TEXT.replace("\n", "\r\n"))
        self.assertEqual(len(events), 7)


RECONNECT = (
    "022 (012.000.000) 2026-12-06 08:01:00Z Job disconnected, attempting to reconnect\n"
    "    the startd did not answer the lease renewal\n"
    "    Trying to reconnect to slot1_1@node2 <10.0.0.2:4000>\n"
    "...\n"
    "023 (012.000.000) 2026-12-06 08:01:05Z Job reconnected to slot1_1@node2\n"
    "    startd address: <10.0.0.2:4000>\n"
    "    starter address: <10.0.0.2:4001>\n"
    "...\n"
    "024 (012.000.000) 2026-12-06 08:02:00Z Job reconnection failed\n"
    "    the job lease expired\n"
    "    Can not reconnect to slot1_1@node2, rescheduling job\n"
    "...\n"
)


class LostExecuteHost(unittest.TestCase):
    def test_disconnected_reconnected_and_reconnect_failed_are_typed_with_their_fields(self):
        disconnected, reconnected, failed = parse_events(RECONNECT)
        self.assertEqual([e.type for e in (disconnected, reconnected, failed)],
                         [JobEventType.JOB_DISCONNECTED, JobEventType.JOB_RECONNECTED, JobEventType.JOB_RECONNECT_FAILED])
        self.assertEqual(disconnected["MyType"], "JobDisconnectedEvent")
        self.assertEqual(disconnected["DisconnectReason"], "the startd did not answer the lease renewal")
        self.assertEqual((disconnected["StartdName"], disconnected["StartdAddr"]), ("slot1_1@node2", "<10.0.0.2:4000>"))
        self.assertEqual(reconnected["MyType"], "JobReconnectedEvent")
        self.assertEqual((reconnected["StartdName"], reconnected["StartdAddr"], reconnected["StarterAddr"]),
                         ("slot1_1@node2", "<10.0.0.2:4000>", "<10.0.0.2:4001>"))
        self.assertEqual(failed["MyType"], "JobReconnectFailedEvent")
        self.assertEqual((failed["Reason"], failed["StartdName"]), ("the job lease expired", "slot1_1@node2"))
        self.assertNotIn("StartdAddr", failed)

    def test_the_json_lines_form_has_the_same_names(self):
        [e] = parse_events('{"MyType":"JobDisconnectedEvent","EventTypeNumber":22,"EventTime":"2026-12-06T08:01:00Z",'
                           '"Cluster":12,"Proc":0,"DisconnectReason":"lost","StartdName":"slot1@n"}\n')
        self.assertEqual((e.type, e["DisconnectReason"], e["StartdName"]), (JobEventType.JOB_DISCONNECTED, "lost", "slot1@n"))


class JsonLines(unittest.TestCase):
    def test_reads_events(self):
        events = parse_events(JSONL)
        self.assertEqual([e.type for e in events], [JobEventType.SUBMIT, JobEventType.JOB_TERMINATED])
        self.assertEqual((events[1].cluster, events[1].proc, events[1].timestamp, events[1]["ReturnValue"]), (12, 0, 1796544009, 3))
        self.assertNotIn("$schema", events[0])


class Follow(unittest.TestCase):
    def test_follows_a_growing_file_and_keeps_an_unfinished_event(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "job.log")
            jel = JobEventLog(path)
            self.assertEqual(list(jel.events(stop_after=0)), [])  # not there yet
            head, rest = TEXT[:200], TEXT[200:]
            with open(path, "w") as f:
                f.write(head)
            first = list(jel.events(stop_after=0))
            self.assertEqual([e.type for e in first], [JobEventType.SUBMIT])
            with open(path, "a") as f:
                f.write(rest)
            self.assertEqual(len(list(jel.events(stop_after=0))), 6)
            # a replaced log is read from its start
            os.rename(path, path + ".old")
            with open(path, "w") as f:
                f.write(JSONL)
            self.assertEqual([e.type for e in jel.events(stop_after=0)], [JobEventType.SUBMIT, JobEventType.JOB_TERMINATED])
            jel.close()


def _attrs(e):
    return {k: v for k, v in e.items() if k != "EventTime"}


@unittest.skipUnless(os.environ.get("DSCHED_TEST_TEXT_LOG"), "the integration test writes dsched's own logs")
class BothFormsOfDschedsWriters(unittest.TestCase):
    def test_the_same_events_in_both_forms(self):
        with JobEventLog(os.environ["DSCHED_TEST_TEXT_LOG"]) as t, JobEventLog(os.environ["DSCHED_TEST_JSONL_LOG"]) as j:
            text, jsonl = list(t.events(stop_after=0)), list(j.events(stop_after=0))
            self.assertEqual(t.errors + j.errors, [])
        self.assertGreater(len(text), 5)
        self.assertEqual(len(text), len(jsonl))
        for a, b in zip(text, jsonl):
            self.assertEqual((a.type, a.cluster, a.proc, a.timestamp), (b.type, b.cluster, b.proc, b.timestamp))
            self.assertEqual(_attrs(a), _attrs(b), repr(a))


if __name__ == "__main__":
    unittest.main()
