"""A carrier on loopback for the dispatch benchmark: every send is an HTTP round trip to a
local server that answers after a fixed latency (50 ms), like a carrier's REST API.

`python -m bench.loopback PORT LATENCY` runs the server; `LoopbackCarrier` (slug
"loopback", added by bench.worker_settings) is the worker's side, one kept-alive
connection per thread.
"""

from __future__ import annotations

import http.client
import json
import os
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from hiretext.carriers.base import (
    AvailableNumber,
    BoughtNumber,
    Carrier,
    CarrierError,
    InboundSms,
    OutboundSms,
    SendReceipt,
    StatusUpdate,
)

_local = threading.local()


class LoopbackCarrier(Carrier):
    slug = "loopback"
    label = "Loopback (benchmarks)"

    def send(self, sms: OutboundSms) -> SendReceipt:
        conn = getattr(_local, "conn", None)
        if conn is None:
            port = int(os.environ["HIRETEXT_BENCH_CARRIER_PORT"])
            conn = _local.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        body = json.dumps({"from": sms.from_e164, "to": sms.to_e164, "body": sms.body})
        try:
            conn.request("POST", "/messages", body, {"Content-Type": "application/json"})
            answer = json.loads(conn.getresponse().read())
        except (OSError, http.client.HTTPException) as exc:
            _local.conn = None
            raise CarrierError(f"loopback carrier: {exc}", transient=True) from exc
        return SendReceipt(external_id=answer["sid"], status="sent")

    def search_numbers(self, area_code: str, limit: int = 20) -> list[AvailableNumber]:
        return []

    def buy_number(self, e164: str) -> BoughtNumber:
        raise CarrierError("The loopback carrier sells no numbers.")

    def release_number(self, e164: str, carrier_id: str) -> None:
        return None

    def verify(self, request: Any) -> None:
        return None

    def parse_inbound(self, request: Any) -> list[InboundSms]:
        return []

    def parse_status(self, request: Any) -> list[StatusUpdate]:
        return []


def serve(port: int, latency: float) -> None:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body go out in two writes: with Nagle on, the body waits for the
        # client's delayed ACK of the headers (40 ms here), nearly doubling the latency.
        disable_nagle_algorithm = True

        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            time.sleep(latency)
            raw = json.dumps({"sid": "LB" + uuid.uuid4().hex, "status": "queued"}).encode()
            self.send_response(201)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def log_message(self, *args: Any) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    server.request_queue_size = 256
    server.serve_forever()


if __name__ == "__main__":
    serve(int(sys.argv[1]), float(sys.argv[2]))
