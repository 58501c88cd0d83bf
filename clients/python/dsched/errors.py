"""The one exception type of the client: the pool's error code and message, as the CLIs print them."""


class DschedError(Exception):
    """An error the API (or the client) reported: ``code`` is one of docs/errors.md (``JOB_NOT_FOUND``, ``USAGE``, ...)."""

    def __init__(self, code, message, hint=None, status=None):
        super().__init__("error[%s]: %s" % (code, message))
        self.code = code
        self.message = message
        self.hint = hint
        #: the HTTP status of the answer, when there was one
        self.status = status
