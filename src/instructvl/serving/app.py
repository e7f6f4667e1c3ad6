"""The HTTP side of `instructvl serve` (a Starlette app): `POST /v1/chat/completions`
(JSON or a stream of server-sent events), `GET /v1/models`, `GET /health` and the web
demo at `/`. Every error is JSON in the OpenAI shape; a client that leaves stops its
generation; the request body is read under the size limit and within the time limit."""

from __future__ import annotations

import asyncio
import hmac
import html
import logging
import time
from contextlib import asynccontextmanager
from pathlib import Path

import anyio
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from instructvl.serving import protocol
from instructvl.serving.engine import Engine
from instructvl.serving.errors import APIError, internal, timed_out, too_large
from instructvl.serving.jobs import Job, prepare_job
from instructvl.serving.settings import Settings

log = logging.getLogger("instructvl.serving")
DEMO_PAGE = Path(__file__).parent / "static" / "demo.html"
GRACE = 2.0  # seconds past a job's deadline before the handler stops waiting for the engine
PREPARING = 2  # requests decoding images and tokenising at once (CPU work: more would only queue)
ROUTES = "GET / (the demo), GET /health, GET /v1/models, POST /v1/chat/completions"
# the demo page loads nothing from elsewhere and sends nothing elsewhere
PAGE_POLICY = (
    "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data: blob:; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'"
)


def error_response(error: APIError) -> JSONResponse:
    """The JSON response for `error`."""
    return JSONResponse(error.body(), status_code=error.status, headers=error.headers)


class ChatServer:
    """The app around one model: `app` is the ASGI application; `engine` batches the work."""

    def __init__(self, vlm, settings: Settings) -> None:
        self.settings = settings
        self.engine = Engine(vlm, settings)
        self.created = int(time.time())
        self._page = DEMO_PAGE.read_text()
        self._limiter = anyio.CapacityLimiter(PREPARING)
        self.app = Starlette(
            routes=[
                Route("/", self.demo, methods=["GET"]),
                Route("/health", self.health, methods=["GET"]),
                Route("/v1/models", self.models, methods=["GET"]),
                Route("/v1/models/{name:path}", self.model, methods=["GET"]),
                Route("/v1/chat/completions", self.chat, methods=["POST"]),
            ],
            exception_handlers={APIError: self._api_error, HTTPException: self._http_error, Exception: self._fault},
            lifespan=self._lifespan,
        )

    @asynccontextmanager
    async def _lifespan(self, _app):
        self.engine.start()
        try:
            yield
        finally:
            self.engine.stop()

    # -- errors ------------------------------------------------------------------------

    async def _api_error(self, _request: Request, error: APIError) -> JSONResponse:
        return error_response(error)

    async def _http_error(self, request: Request, exc: HTTPException) -> JSONResponse:
        if exc.status_code == 404:
            message = f"no route {request.method} {request.url.path}; this server has {ROUTES}"
        elif exc.status_code == 405:
            message = f"{request.method} is not allowed on {request.url.path}; this server has {ROUTES}"
        else:
            message = str(exc.detail)
        return error_response(APIError(exc.status_code, message, code="not_found" if exc.status_code == 404 else None))

    async def _fault(self, _request: Request, exc: Exception) -> JSONResponse:
        log.error("unexpected error", exc_info=exc)
        return error_response(internal("the server hit an unexpected error; its log has the details"))

    def _authorize(self, request: Request) -> None:
        key = self.settings.api_key
        if key is None:
            return
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not given:
            raise APIError(
                401,
                "this server needs an API key: send it as the header 'Authorization: Bearer KEY'",
                type="authentication_error",
                code="missing_api_key",
            )
        if not hmac.compare_digest(given.strip().encode(), key.encode()):
            raise APIError(401, "incorrect API key", type="authentication_error", code="invalid_api_key")

    # -- small routes ------------------------------------------------------------------

    async def demo(self, _request: Request) -> HTMLResponse:
        """The web demo (a static page that calls this API)."""
        page = self._page.replace("{{MODEL}}", html.escape(self.settings.model_name))
        return HTMLResponse(page, headers={"Content-Security-Policy": PAGE_POLICY, "Cache-Control": "no-cache"})

    async def health(self, _request: Request) -> JSONResponse:
        """Liveness and load: requests generating, waiting, being read; jobs ended by reason."""
        return JSONResponse({"status": "ok", "model": self.settings.model_name, **self.engine.status()})

    async def models(self, request: Request) -> JSONResponse:
        """The one model served."""
        self._authorize(request)
        return JSONResponse({"object": "list", "data": [protocol.model_card(self.settings.model_name, self.created)]})

    async def model(self, request: Request) -> JSONResponse:
        """One model by name (404 for any other)."""
        self._authorize(request)
        self._check_model(request.path_params["name"])
        return JSONResponse(protocol.model_card(self.settings.model_name, self.created))

    def _check_model(self, name: str) -> None:
        if name != self.settings.model_name:
            raise APIError(
                404,
                f"the model {name!r} does not exist here; this server serves {self.settings.model_name!r}",
                param="model",
                code="model_not_found",
            )

    # -- chat completions --------------------------------------------------------------

    async def _body(self, request: Request) -> bytes:
        limit = self.settings.max_body_bytes
        refusal = too_large(
            f"the request body is over this server's limit of {limit:,} bytes (--max-body-mb), base64 images "
            "included; send smaller or fewer images"
        )
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            raise refusal
        body = bytearray()
        try:
            with anyio.fail_after(self.settings.request_timeout):
                async for piece in request.stream():
                    body += piece
                    if len(body) > limit:
                        raise refusal
        except TimeoutError:
            raise APIError(408, "the request body took too long to arrive", code="request_timeout") from None
        return bytes(body)

    async def chat(self, request: Request) -> Response:
        """`POST /v1/chat/completions`: holds a place (429 when none), reads and checks the
        request, prepares its images and prompt off the event loop, queues it, then answers
        with the whole reply or streams it."""
        self._authorize(request)
        arrived = time.monotonic()
        created = int(time.time())
        with self.engine.reserve() as place:
            chat = protocol.parse_request(await self._body(request))
            self._check_model(chat.model)
            loop = asyncio.get_running_loop()
            events: asyncio.Queue = asyncio.Queue()

            def notify(item) -> None:
                """Hands an event from the engine's thread to this handler's loop."""
                try:
                    loop.call_soon_threadsafe(events.put_nowait, item)
                except RuntimeError:  # the event loop is closed: the server is gone
                    pass

            job = await anyio.to_thread.run_sync(
                prepare_job, chat, self.engine, self.settings, notify, arrived, limiter=self._limiter
            )
            self.engine.submit(place, job)
        include_usage = bool(chat.stream_options and chat.stream_options.include_usage)
        if job.stream:
            return StreamingResponse(
                self._stream(job, events, created, include_usage),
                media_type="text/event-stream",
                headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
            )
        return JSONResponse(await self._reply(request, job, events, created))

    async def _next(self, job: Job, events: asyncio.Queue) -> tuple[str, object]:
        """The job's next event; ("done", "timeout") when it runs past its deadline."""
        try:
            return await asyncio.wait_for(events.get(), timeout=max(0.1, job.deadline + GRACE - time.monotonic()))
        except TimeoutError:
            job.cancel()
            return "done", "timeout"

    def _ended(self, job: Job, reason: str) -> APIError | None:
        """The error a job's end means for its client (None: it finished normally)."""
        if reason == "timeout":
            return timed_out(self.settings.request_timeout)
        if reason == "cancelled":
            return APIError(400, "the client closed the connection before the answer", code="client_closed")
        return None

    async def _reply(self, request: Request, job: Job, events: asyncio.Queue, created: int) -> dict:
        gone = asyncio.ensure_future(_client_gone(request))
        gone.add_done_callback(lambda _: job.cancel())
        try:
            while True:
                kind, value = await self._next(job, events)
                if kind == "error":
                    raise value
                if kind == "done":
                    break
        finally:
            gone.cancel()
        error = self._ended(job, value)
        if error is not None:
            raise error
        counts = protocol.usage(job.prompt_tokens, job.completion_tokens)
        return protocol.completion(job.rid, created, self.settings.model_name, job.answer.final, value, counts)

    async def _stream(self, job: Job, events: asyncio.Queue, created: int, include_usage: bool):
        """The reply as server-sent events: a role chunk, content deltas, a chunk with the
        finish reason, the usage chunk if asked, then [DONE]; an error ends it with an
        error event. Leaving early (the client gone) cancels the job."""
        name = self.settings.model_name

        def chunk(delta, finish=None, counts=None) -> bytes:
            """One chunk event of this reply."""
            return protocol.event(protocol.chunk(job.rid, created, name, delta, finish, counts))

        try:
            yield chunk({"role": "assistant", "content": ""})
            while True:
                kind, value = await self._next(job, events)
                if kind == "delta":
                    yield chunk({"content": value})
                    continue
                error = value if kind == "error" else self._ended(job, value)
                if error is not None:
                    yield protocol.error_event(error)
                    return
                yield chunk({}, finish=value)
                if include_usage:
                    yield chunk(None, counts=protocol.usage(job.prompt_tokens, job.completion_tokens))
                yield protocol.DONE
                return
        finally:
            job.cancel()


async def _client_gone(request: Request) -> None:
    """Returns once the client has closed its connection (the body is read by then)."""
    while (await request.receive())["type"] != "http.disconnect":
        pass


def create_app(vlm, settings: Settings) -> Starlette:
    """The ASGI app serving `vlm` under `settings`."""
    return ChatServer(vlm, settings).app
