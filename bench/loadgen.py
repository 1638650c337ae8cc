"""An HTTP load generator run as its own process: fixed arrival rate (open loop) or N busy connections.

Usage: ``python bench/loadgen.py < spec.json > result.json``. The spec names the server, the mode and
the requests to rotate through; the result holds latency percentiles and throughput.

Open loop: request ``i`` is due at ``start + i / rate`` whether or not earlier ones have answered, and
its latency runs from that due time (or from when it was sent, if that was earlier), not from when a
connection was free to send it. A server that
falls behind therefore shows its queueing delay in the percentiles instead of hiding it by slowing
the generator down (the "coordinated omission" that closed-loop tools suffer from). Closed loop: each
of N connections sends its next request as soon as the last one answered; only throughput is meant
to be read from it.

A request template's body may contain ``{phone}``: every request then gets a fresh, valid US number,
so add-party never trips the one-active-party-per-phone rule. A header value may contain ``{ip}``:
each request then claims a different client address (for ``X-Forwarded-For`` behind a trusted proxy),
as a public endpoint's many visitors would, so per-IP rate limits count as they would in production.
Connections are reused when the server keeps them alive (gunicorn's sync workers do not: they answer
``Connection: close``).
"""
from __future__ import annotations

import asyncio
import http.client
import json
import os
import resource
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from typing import Any

AREA_CODES = ("415", "212", "646", "312", "718", "213", "617", "206", "303", "512")
"""Area codes whose 555-xxxx numbers the phonenumbers library accepts as valid (checked by http_bench)."""

REQUEST_TIMEOUT_SECONDS = 10.0

DRAIN_SECONDS = 5.0
"""After the last request is due, answers are awaited this long; the rest count as failed and, in the
percentiles, as this late (they are later still), so an overloaded server cannot stretch a run."""

TIMER_SLACK_SECONDS = 0.0015
"""Event-loop timers fire up to a millisecond late (epoll and libuv count whole milliseconds), which
would add up to 1 ms of the generator's own lateness to every latency. So requests are handed out up
to this much early, and a request sent early is timed from when it was sent, one sent late from when it
was due."""


def phone_number(index: int) -> str:
    """The index-th of 100,000 distinct, valid E.164 US numbers."""
    area, line = divmod(index % (len(AREA_CODES) * 10_000), 10_000)
    return f"+1{AREA_CODES[area]}555{line:04d}"


@dataclass
class Template:
    method: str
    path: str
    headers: dict[str, str]
    body: str | None

    def render(self, host: str, phone: str, client_ip: str) -> bytes:
        body = b"" if self.body is None else self.body.replace("{phone}", phone).encode()
        lines = [f"{self.method} {self.path} HTTP/1.1", f"Host: {host}", "Connection: keep-alive"]
        lines += [f"{name}: {value.replace('{ip}', client_ip)}" for name, value in self.headers.items()]
        if self.body is not None:
            lines += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
        return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


@dataclass
class Tally:
    latencies: list[float] = field(default_factory=list)
    statuses: dict[str, int] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)
    completed_in_window: int = 0
    sent_in_window: int = 0

    def status(self, code: int) -> None:
        self.statuses[str(code)] = self.statuses.get(str(code), 0) + 1

    def error(self, exc: BaseException) -> None:
        name = type(exc).__name__
        self.errors[name] = self.errors.get(name, 0) + 1


def call(port: int, method: str, path: str, body: Any = None, token: str | None = None) -> tuple[int, Any]:
    """One set-up request (JSON in, JSON out when the answer is JSON), on a connection of its own."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        headers = {"Content-Type": "application/json"} if body is not None else {}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        conn.request(method, path, body=None if body is None else json.dumps(body), headers=headers)
        response = conn.getresponse()
        raw = response.read()
        try:
            return response.status, json.loads(raw) if raw else None
        except ValueError:
            return response.status, raw.decode(errors="replace")
    finally:
        conn.close()


def stop_process_group(process: subprocess.Popen[bytes], grace: float = 15) -> None:
    """SIGTERM to a process started with ``start_new_session=True`` and its children (a gunicorn
    master and its workers), SIGKILL if they linger past ``grace`` seconds."""
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=grace)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        process.wait(timeout=5)


class Connection:
    """One HTTP/1.1 connection that reopens itself when the server closed it."""

    def __init__(self, host: str, port: int):
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(self, payload: bytes) -> tuple[int, bytes]:
        """The answer's status and body."""
        reused = self.writer is not None
        try:
            return await self._exchange(payload)
        except (ConnectionError, asyncio.IncompleteReadError):
            self.close()
            if not reused:
                raise
        return await self._exchange(payload)  # a kept-alive connection the server had already dropped

    async def _exchange(self, payload: bytes) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        self.writer.write(payload)
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        length, close = 0, False
        for line in lines[1:]:
            name, _, value = line.partition(":")
            name = name.strip().lower()
            if name == "content-length":
                length = int(value)
            elif name == "connection" and value.strip().lower() == "close":
                close = True
        body = await self.reader.readexactly(length) if length else b""
        if close:
            self.close()
        return status, body

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


class Requests:
    """Rotates through the templates, giving each rendered request the next unused phone number."""

    def __init__(self, spec: dict[str, Any]):
        self.host = f"{spec['host']}:{spec['port']}"
        self.templates = [Template(t["method"], t["path"], t.get("headers", {}), t.get("body"))
                          for t in spec["templates"]]
        self.next_phone = int(spec.get("phone_offset", 0))
        self.count = 0

    def next(self) -> bytes:
        template = self.templates[self.count % len(self.templates)]
        self.count += 1
        phone = ""
        if template.body is not None and "{phone}" in template.body:
            phone = phone_number(self.next_phone)
            self.next_phone += 1
        n = self.count
        return template.render(self.host, phone, f"10.{(n >> 16) & 255}.{(n >> 8) & 255}.{n & 255}")


# Times come from time.perf_counter(), not loop.time(): uvloop's clock ticks in whole milliseconds.
now = time.perf_counter


async def open_loop(spec: dict[str, Any], requests: Requests, tally: Tally) -> float:
    rate, duration = float(spec["rate"]), float(spec["duration"])
    total = int(rate * duration)
    due: asyncio.Queue[tuple[float, bytes] | None] = asyncio.Queue()
    connections = int(spec.get("connections", 64))
    start = now() + 0.05

    async def schedule() -> None:
        for i in range(total):
            at = start + i / rate
            delay = at - now() - TIMER_SLACK_SECONDS
            if delay > 0:
                await asyncio.sleep(delay)
            due.put_nowait((at, requests.next()))
        for _ in range(connections):
            due.put_nowait(None)

    deadline = start + duration + DRAIN_SECONDS

    async def send() -> None:
        conn = Connection(spec["host"], int(spec["port"]))
        # The deadline check matters: Python 3.11's wait_for can swallow a cancellation that arrives
        # as the request completes, and the queue may still hold a backlog to work through.
        while now() < deadline and (item := await due.get()) is not None:
            at, payload = item
            began = min(at, now())  # late: the wait counts; early (timer slack): only the exchange counts
            try:
                code, _body = await asyncio.wait_for(conn.request(payload), REQUEST_TIMEOUT_SECONDS)
            except (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError) as exc:
                conn.close()
                tally.error(exc)
                continue
            tally.latencies.append(now() - began)
            tally.status(code)
        conn.close()

    tasks = [asyncio.ensure_future(schedule()), *(asyncio.ensure_future(send()) for _ in range(connections))]
    _done, pending = await asyncio.wait(tasks, timeout=deadline - now())
    for task in pending:
        task.cancel()
    if pending:
        await asyncio.wait(pending, timeout=1.0)
    unanswered = total - len(tally.latencies) - sum(tally.errors.values())
    if unanswered > 0:
        tally.errors["Unanswered"] = unanswered
        tally.latencies.extend([DRAIN_SECONDS] * unanswered)  # at least this late: keep them in the percentiles
    return now() - start


async def closed_loop(spec: dict[str, Any], requests: Requests, tally: Tally) -> float:
    """Busy connections for warmup + duration seconds; throughput counts only the measured window."""
    warmup, duration = float(spec.get("warmup", 1.0)), float(spec["duration"])
    window_start = now() + warmup
    window_end = window_start + duration

    async def send() -> None:
        conn = Connection(spec["host"], int(spec["port"]))
        while now() < window_end:
            sent = now()
            try:
                code, _body = await asyncio.wait_for(conn.request(requests.next()), REQUEST_TIMEOUT_SECONDS)
            except (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError) as exc:
                conn.close()
                tally.error(exc)
                continue
            done = now()
            if window_start <= sent:
                tally.sent_in_window += 1
            if window_start <= sent and done <= window_end:
                tally.latencies.append(done - sent)
                tally.status(code)
                if 200 <= code < 300:
                    tally.completed_in_window += 1
        conn.close()

    await asyncio.gather(*(send() for _ in range(int(spec.get("connections", 16)))))
    return duration


def percentile(sorted_values: list[float], q: float) -> float | None:
    if not sorted_values:
        return None
    index = min(len(sorted_values) - 1, max(0, round(q / 100 * len(sorted_values)) - 1))
    return sorted_values[index]


def event_loop_policy() -> str:
    """uvloop when installed: it halves the generator's CPU per request, leaving more to the servers."""
    try:
        import uvloop
    except ImportError:
        return "asyncio"
    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    return "uvloop"


def run(spec: dict[str, Any]) -> dict[str, Any]:
    loop_name = event_loop_policy() if spec.get("uvloop", True) else "asyncio"
    requests, tally = Requests(spec), Tally()
    cpu_before = resource.getrusage(resource.RUSAGE_SELF)
    wall = time.perf_counter()
    runner = open_loop if spec["mode"] == "open" else closed_loop
    elapsed = asyncio.run(runner(spec, requests, tally))
    wall = time.perf_counter() - wall
    cpu_after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (cpu_after.ru_utime - cpu_before.ru_utime) + (cpu_after.ru_stime - cpu_before.ru_stime)
    answered = sum(tally.statuses.values())
    latencies = sorted(tally.latencies)
    ok = sum(n for code, n in tally.statuses.items() if code.startswith("2"))
    result: dict[str, Any] = {
        "mode": spec["mode"],
        "rate": spec.get("rate"),
        "loop": loop_name,
        "sent": requests.count,
        "total_sent": requests.count,
        "answered": answered,
        "ok": ok,
        "statuses": tally.statuses,
        "errors": tally.errors,
        "elapsed_s": round(elapsed, 3),
        "loadgen_cpu_share": round(cpu / wall, 3) if wall else None,
        "next_phone": requests.next_phone,
        "ms": {f"p{q:g}": round(v * 1000, 2) for q in (50, 90, 99, 99.9, 100)
               if (v := percentile(latencies, q)) is not None},
    }
    if spec["mode"] == "closed":
        result["sent"] = tally.sent_in_window  # warm-up requests and those still open at the end don't count
        result["throughput_rps"] = round(tally.completed_in_window / float(spec["duration"]), 1)
    else:
        result["achieved_rps"] = round(ok / elapsed, 1) if elapsed else None
    return result


def main() -> None:
    spec = json.load(sys.stdin)
    json.dump(run(spec), sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
