"""Interoperability test: the OpenTelemetry Python SDK (`opentelemetry-sdk`
with `opentelemetry-exporter-otlp-proto-http`, binary protobuf) exports a
few records at several levels to zenserver, through the standard `logging`
module and through the OpenTelemetry Logs API; then the session is read
back over the sessions API and every record, level, attribute and the
resource metadata is checked.

Run by `cargo xtask interop`, which starts the server and sets
ZENSERVER_URL (http://127.0.0.1:PORT), ZENSERVER_TOKEN and SESSION_ID (24
hex digits, given to the SDK as `service.instance.id`).
"""

import json
import logging
import os
import sys
import time
import urllib.request
import warnings
from datetime import datetime

from opentelemetry._logs import SeverityNumber
from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
from opentelemetry.sdk._logs import LoggerProvider, LoggingHandler
from opentelemetry.sdk._logs.export import BatchLogRecordProcessor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.version import __version__ as SDK_VERSION


def required(name):
    value = os.environ.get(name)
    if not value:
        sys.exit(f"{name} is not set; run this through `cargo xtask interop`")
    return value


URL = required("ZENSERVER_URL")
TOKEN = required("ZENSERVER_TOKEN")
SESSION_ID = required("SESSION_ID")
AUTHORIZATION = {"Authorization": f"Bearer {TOKEN}"}

RESOURCE_ATTRIBUTES = {
    "service.name": "interop-python",
    "service.instance.id": SESSION_ID,
    "service.namespace": "interop",
    "service.version": "1.4.0",
    "zen.mode": "interop",
    "process.pid": os.getpid(),
}


def export():
    """Logs the records; returns what each entry must look like, in order."""
    provider = LoggerProvider(resource=Resource.create(RESOURCE_ATTRIBUTES))
    exporter = OTLPLogExporter(endpoint=f"{URL}/v1/logs", headers=AUTHORIZATION)
    # One batch, sent when the provider shuts down.
    provider.add_log_record_processor(
        BatchLogRecordProcessor(exporter, schedule_delay_millis=60_000)
    )
    with warnings.catch_warnings():
        # The SDK's handler is deprecated in favour of a separate package;
        # it is still the SDK's own way from `logging` to OTLP.
        warnings.simplefilter("ignore", DeprecationWarning)
        handler = LoggingHandler(level=logging.DEBUG, logger_provider=provider)
    log = logging.getLogger("interop.worker")
    log.propagate = False
    log.setLevel(logging.DEBUG)
    log.addHandler(handler)

    tracer = TracerProvider().get_tracer("interop")
    expected = []

    log.debug("starting worker", extra={"attempt": 1})
    expected.append(("debug", "starting worker", {"attempt": 1}))

    log.info(
        "processed %d items", 3, extra={"ratio": 0.5, "ok": True, "tags": ["a", "b"]}
    )
    expected.append(
        ("info", "processed 3 items", {"ratio": 0.5, "ok": True, "tags": ["a", "b"]})
    )

    log.warning("queue is %s", "backing up", extra={"queue.depth": 120})
    expected.append(("warn", "queue is backing up", {"queue.depth": 120}))

    with tracer.start_as_current_span("checkout") as span:
        log.error("payment failed", extra={"order.id": "A-7"})
        context = span.get_span_context()
        expected.append(
            (
                "error",
                "payment failed",
                {
                    "order.id": "A-7",
                    "trace_id": f"{context.trace_id:032x}",
                    "span_id": f"{context.span_id:016x}",
                    "trace_flags": int(context.trace_flags),
                },
            )
        )

    log.critical("out of memory")
    expected.append(("error", "out of memory", {"severity": "FATAL"}))

    log.info({"event": "cache.stats", "hits": 41, "misses": 1})
    expected.append(("info", '{"event":"cache.stats","hits":41,"misses":1}', {}))

    events = provider.get_logger("interop.events", "1.0")
    events.emit(
        severity_number=SeverityNumber.INFO2,
        severity_text="INFO2",
        event_name="build.artifact",
        body=b"\x00\x01raw",
        attributes={"artifact.size": 5},
    )
    expected.append(
        ("info", "AAFyYXc=", {"artifact.size": 5, "event_name": "build.artifact"})
    )

    provider.shutdown()
    return expected


def get(path):
    request = urllib.request.Request(f"{URL}{path}", headers=AUTHORIZATION)
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)


def check(condition, what):
    if not condition:
        sys.exit(f"python: {what}")


def main():
    started = time.time()
    expected = export()
    finished = time.time()

    session = get(f"/sessions/{SESSION_ID}")
    check(session["appname"] == "interop-python", f"appname: {session}")
    check(session["mode"] == "interop", f"mode: {session}")
    check(session["status"] == "active", f"status: {session}")
    metadata = {
        key: value
        for key, value in RESOURCE_ATTRIBUTES.items()
        if key not in ("service.name", "zen.mode")
    }
    metadata.update(
        {
            "telemetry.sdk.language": "python",
            "telemetry.sdk.name": "opentelemetry",
            "telemetry.sdk.version": SDK_VERSION,
        }
    )
    check(session["metadata"] == metadata, f"metadata: {session['metadata']}")

    entries = get(f"/sessions/{SESSION_ID}/log")["entries"]
    check(len(entries) == len(expected), f"{len(entries)} entries: {entries}")
    for index, (entry, (level, message, data)) in enumerate(zip(entries, expected)):
        where = f"entry {index}: {entry}"
        check(entry["seq"] == index + 1, where)
        check(entry["level"] == level, where)
        check(entry["message"] == message, where)
        actual = dict(entry.get("data", {}))
        scope = "interop.events" if "event_name" in data else "interop.worker"
        check(actual.pop("scope", None) == scope, where)
        if scope == "interop.worker":
            # `logging` records carry where they were logged from.
            check(actual.pop("code.function.name", None) == "export", where)
            check(actual.pop("code.file.path", None) == __file__, where)
            check(isinstance(actual.pop("code.line.number", None), int), where)
        check(actual == data, f"{where}: data should be {data}")
        stamp = datetime.fromisoformat(entry["timestamp"].replace("Z", "+00:00"))
        check(started - 1 <= stamp.timestamp() <= finished + 1, f"{where}: timestamp")
    print(f"python: {len(expected)} records checked in session {SESSION_ID}")


if __name__ == "__main__":
    main()
