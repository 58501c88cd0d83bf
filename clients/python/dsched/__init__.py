"""A client for a dsched pool's HTTP API, using only Python's standard library.

Names follow htcondor2's Python API where it fits: ``Schedd().query/submit/act/history``, ``JobAction``,
``Submit``, ``JobEventLog``, ``JobEventType``.
"""

from .errors import DschedError
from .event_log import JobEvent, JobEventLog, JobEventType
from .schedd import JobAction, Schedd, Submit, SubmitResult, create_token, find_url

__all__ = ["DschedError", "JobAction", "JobEvent", "JobEventLog", "JobEventType", "Schedd", "Submit", "SubmitResult", "create_token", "find_url"]
__version__ = "0.1.0"
