"""The async engine: players take turns playing sessions against the API.

`concurrency` players act at once, each with at most one request in flight; a
token bucket holds the whole run to `rate` events per second. A request that
times out or gets 429/5xx is retried with the same idempotency key(s), so an
event is acknowledged at most once whatever happens on the wire. Stopping
(the duration ends, or Ctrl-C) lets in-flight requests and buffered mobile
batches finish; a second Ctrl-C abandons them. The ground truth is written in
every case.
"""

import asyncio
import contextlib
import random
import signal
import time
from collections.abc import Callable

import httpx
import orjson

from questline_loadgen import routes
from questline_loadgen.credentials import Credentials
from questline_loadgen.ground_truth import GroundTruth
from questline_loadgen.settings import Settings
from questline_loadgen.world import Action, Player, World

_RETRYABLE_STATUS = frozenset({429, 500, 502, 503, 504})
_BACKOFF_CAP = 5.0


class RateLimiter:
    """Token bucket: `acquire(n)` waits until n more events fit under the rate."""

    def __init__(self, rate: float, burst: float | None = None):
        self.rate = rate
        self.capacity = burst or max(rate / 10, 1.0)
        self.tokens = self.capacity
        self.updated = time.monotonic()
        self._lock = asyncio.Lock()

    async def acquire(self, n: int = 1) -> None:
        if self.rate <= 0:
            return
        async with self._lock:
            while True:
                now = time.monotonic()
                self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
                self.updated = now
                # A batch larger than the bucket may overdraw it; the debt slows what follows.
                if self.tokens >= min(n, self.capacity):
                    self.tokens -= n
                    return
                await asyncio.sleep((min(n, self.capacity) - self.tokens) / self.rate)


class Simulator:
    def __init__(
        self,
        settings: Settings,
        on_tick: Callable[["Simulator"], None] | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ):
        self.settings = settings
        self.transport = transport  # None: the network; tests pass an in-process one
        self.world = World(settings.run_id, settings.seed, settings.players)
        self.truth = GroundTruth(settings.run_id, settings.seed, settings.public())
        for player in self.world.players:
            self.truth.add_player(player)
        self.stopping = asyncio.Event()
        self.limiter = RateLimiter(settings.rate)
        self.credentials = Credentials(settings.auth)
        self.on_tick = on_tick
        self.started = 0.0
        self._backoff_rng = random.Random(f"{settings.seed}:backoff")

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started if self.started else 0.0

    def stop(self, reason: str) -> None:
        if not self.stopping.is_set():
            self.truth.stopped_by = reason
            self.stopping.set()

    async def run(self) -> GroundTruth:
        s = self.settings
        self.started = time.monotonic()
        limits = httpx.Limits(max_connections=s.concurrency, max_keepalive_connections=s.concurrency)
        queue: asyncio.Queue[Player] = asyncio.Queue()
        order = list(self.world.players)
        random.Random(f"{s.seed}:order").shuffle(order)
        for player in order:
            queue.put_nowait(player)
        async with httpx.AsyncClient(
            base_url=s.api_url, timeout=s.request_timeout, limits=limits, transport=self.transport
        ) as client:
            workers = [asyncio.create_task(self._worker(client, queue)) for _ in range(min(s.concurrency, s.players))]
            ticker = asyncio.create_task(self._tick())
            try:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.stopping.wait(), timeout=s.duration)
                self.stop("duration")
                await asyncio.gather(*workers)
            finally:
                for task in (*workers, ticker):
                    task.cancel()
                await asyncio.gather(*workers, ticker, return_exceptions=True)
                self.truth.finished_at = time.time()
                if self.on_tick:
                    self.on_tick(self)
        return self.truth

    async def _tick(self) -> None:
        while self.on_tick:
            self.on_tick(self)
            await asyncio.sleep(0.25)

    async def _worker(self, client: httpx.AsyncClient, queue: "asyncio.Queue[Player]") -> None:
        while not self.stopping.is_set():
            player = await queue.get()
            try:
                await self._session(client, player)
            finally:
                queue.put_nowait(player)

    async def _session(self, client: httpx.AsyncClient, player: Player) -> None:
        rng = self.world.session_rng(player)
        batch_size = rng.randint(5, self.settings.max_batch) if player.client == "mobile" else 1
        buffered: list[tuple[Action, str]] = []
        try:
            for action in self.world.session(player, rng):
                if self.stopping.is_set():
                    break
                await asyncio.sleep(0)  # let the clock and other players run even if the API answers at once
                transport = routes.transport_for(player, action)
                if transport == "v1-batch":
                    buffered.append((action, _client_time()))
                    if len(buffered) >= batch_size:
                        await self._send(client, player, routes.batch_request(buffered))
                        buffered = []
                else:
                    await self._send(client, player, routes.request_for(action, transport))
        finally:
            # The player's client posts what it buffered before it closes (unless cancelled
            # by a second Ctrl-C: those events were never sent, so they count nowhere).
            if buffered and not _cancelling():
                await self._send(client, player, routes.batch_request(buffered))

    def _headers(self, player: Player, request: routes.Request) -> dict[str, str]:
        headers = {
            "User-Agent": player.user_agent,
            "Accept": "*/*" if request.transport == "legacy" else "application/json",
        }
        if self.settings.send_player_host:
            headers["Host"] = player.host
        elif self.settings.host_header:
            headers["Host"] = self.settings.host_header
        if request.idempotency_key:
            headers["Idempotency-Key"] = request.idempotency_key
        return headers

    async def _send(self, client: httpx.AsyncClient, player: Player, request: routes.Request) -> None:
        await self.limiter.acquire(len(request.actions))
        for action in request.actions:
            self.truth.record_sent(action, request.transport)
        self.truth.requests[request.transport] += 1
        try:
            await self._try(client, player, request)
        except asyncio.CancelledError:
            for action in request.actions:  # it may have reached Kafka: the outcome is unknown
                self.truth.record_unknown(action)
            raise

    async def _try(self, client: httpx.AsyncClient, player: Player, request: routes.Request) -> None:
        """Send until acknowledged, refused (4xx) or out of retries; record the outcome."""
        headers = self._headers(player, request)
        content = orjson.dumps(request.json) if request.json is not None else None
        if content is not None:
            headers["Content-Type"] = "application/json"
        for attempt in range(self.settings.max_retries + 1):
            if request.transport != "legacy":
                headers.update(await self.credentials.headers(client, player.player_id, headers.get("Host")))
            started = time.monotonic()
            try:
                response = await client.request(
                    request.method, request.path, params=request.params, content=content, headers=headers
                )
            except (httpx.TimeoutException, httpx.TransportError) as exc:
                self.truth.record_response(
                    request.transport, type(exc).__name__, time.monotonic() - started, attempt > 0
                )
                delay = self._backoff(attempt, None)
            else:
                latency = time.monotonic() - started
                self.truth.record_response(request.transport, response.status_code, latency, attempt > 0)
                if response.status_code < 300:
                    self._acknowledged(request, response)
                    return
                if response.status_code == 401 and "Authorization" in headers and attempt < self.settings.max_retries:
                    # The token expired or its key was rotated away: log in again and retry.
                    self.credentials.forget(player.player_id)
                    headers.pop("Authorization")
                    continue
                if response.status_code not in _RETRYABLE_STATUS:
                    detail = response.text[:300]
                    for action in request.actions:
                        self.truth.record_rejected(action, response.status_code, detail)
                    return
                delay = self._backoff(attempt, response.headers.get("Retry-After"))
            if attempt < self.settings.max_retries:
                await asyncio.sleep(delay)
        for action in request.actions:
            self.truth.record_unknown(action)

    def _acknowledged(self, request: routes.Request, response: httpx.Response) -> None:
        if request.transport == "legacy":
            # The legacy routes answer in plain text; the event id follows from the key.
            ids = [None]
        elif request.transport == "v1-batch":
            ids = [r["event_id"] for r in response.json()["results"]]
        else:
            ids = [response.json()["event_id"]]
        for action, event_id in zip(request.actions, ids, strict=True):
            payload = routes.recorded_payload(action, request.transport)
            self.truth.record_acknowledged(action, request.transport, payload, event_id)

    def _backoff(self, attempt: int, retry_after: str | None) -> float:
        if retry_after is not None:
            with contextlib.suppress(ValueError):
                return min(float(retry_after), _BACKOFF_CAP * 2)
        return min(_BACKOFF_CAP, 0.1 * 2**attempt) * (0.5 + self._backoff_rng.random())


def _cancelling() -> bool:
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0


def _client_time() -> str:
    now = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + f".{int(now % 1 * 1000):03d}Z"


def run(settings: Settings, on_tick: Callable[[Simulator], None] | None = None) -> GroundTruth:
    """Run the simulation in a new event loop; Ctrl-C stops cleanly, a second one at once."""

    async def main() -> GroundTruth:
        simulator = Simulator(settings, on_tick)
        loop = asyncio.get_running_loop()
        current = asyncio.current_task()
        interrupts = 0

        def interrupted() -> None:
            nonlocal interrupts
            interrupts += 1
            simulator.stop("interrupt")
            if interrupts > 1:
                current.cancel()

        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, interrupted)
        try:
            return await simulator.run()
        except asyncio.CancelledError:
            return simulator.truth
        finally:
            simulator.truth.write(settings.ground_truth_path)
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(sig)

    return asyncio.run(main())
