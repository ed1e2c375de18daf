"""The explorer's web app (Starlette): the page, its static files and the JSON API.

Every API route is a GET that reads the models held in memory; nothing writes, and no request
names a file: the server was given its vectors on the command line. Parameters are checked
against limits.py before any work is done, and whatever goes wrong comes back as JSON
``{"error": "..."}`` with a 4xx status (a 500 only for a bug, still JSON, its traceback in
the server's log and never in the answer).

Questions are asked of every model at once (or of ``model=0`` / ``model=1``), and each
model answers in ``models``: with its answer, or with its own ``error`` (a word one model
knows and the other does not). The status is 200 when some model answered, else 404 for an
unknown word and 400 for another problem.

The handlers are plain functions, which Starlette runs in its thread pool: numpy's matrix
products release the GIL, so a t-SNE map being computed does not stall a neighbour query.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .. import __version__
from ..benchmarks import BENCHMARKS
from ..errors import UnknownWordError, W2VError
from . import limits
from .models import Model, json_safe

__all__ = ["create_app"]

STATIC = Path(__file__).parent / "static"

# The page needs nothing from elsewhere, so the browser is told to load nothing from
# elsewhere and to run no inline script: a word that smuggled markup into the page could
# still not run.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; "
        "frame-ancestors 'none'; form-action 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
METRICS = ("cosine", "euclidean")
ANALOGY_METHODS = ("add", "mul")
MAP_METHODS = ("pca", "tsne")


class BadRequest(W2VError):
    """A request the API cannot answer as asked: a missing or malformed parameter."""


class Answer(JSONResponse):
    """JSON with NaN and infinities as null, which JSON (and the page) can read."""

    def render(self, content: Any) -> bytes:
        return super().render(json_safe(content))


def error(status: int, message: str, **more: Any) -> Answer:
    return Answer({"error": message, **more}, status_code=status)


# -- parameters ------------------------------------------------------------------------------


class Params:
    """A request's query parameters, each read with its bounds."""

    def __init__(self, request: Request, n_models: int) -> None:
        self._query = request.query_params
        self._n_models = n_models

    def _raw(self, name: str, most: int = limits.MAX_TEXT) -> str | None:
        value = self._query.get(name)
        if value is not None and len(value) > most:
            raise BadRequest(f"{name} is too long: at most {most} characters, got {len(value)}")
        return value

    def text(self, name: str) -> str:
        value = (self._raw(name) or "").strip()
        if not value:
            raise BadRequest(f"{name} is missing: add {name}=... to the request")
        return value

    def integer(self, name: str, default: int, lo: int, hi: int) -> int:
        raw = self._raw(name)
        if raw is None or raw.strip() == "":
            return default
        try:
            value = int(raw.strip())
        except ValueError:
            value = None
        if value is None or not lo <= value <= hi:
            raise BadRequest(f"{name} must be a whole number from {lo} to {hi}, got {raw!r}")
        return value

    def choice(self, name: str, choices: Sequence[str]) -> str:
        value = (self._raw(name) or choices[0]).strip()
        if value not in choices:
            expected = " or ".join(repr(c) for c in choices)
            raise BadRequest(f"{name} must be {expected}, got {value!r}")
        return value

    def words(self, name: str, most: int) -> list[str]:
        """A comma-separated list (empty when absent)."""
        raw = self._raw(name, limits.MAX_LIST_TEXT) or ""
        words = [w.strip() for w in raw.split(",") if w.strip()]
        if len(words) > most:
            raise BadRequest(f"{name}: at most {most} words, got {len(words)}")
        for word in words:
            if len(word) > limits.MAX_TEXT:
                raise BadRequest(f"{name}: a word is at most {limits.MAX_TEXT} characters")
        return words

    def models(self) -> list[int]:
        """The models asked (``model=0`` or ``model=1``; all by default)."""
        if self._query.get("model") is None:
            return list(range(self._n_models))
        return [self.integer("model", 0, 0, self._n_models - 1)]


# -- answers ---------------------------------------------------------------------------------


def ask_each(
    models: Sequence[Model], ids: list[int], ask: Callable[[Model], dict[str, Any]]
) -> tuple[list[dict[str, Any]], int]:
    """Each model's answer (or its error), and the status of the whole."""
    answers: list[dict[str, Any]] = []
    unknown = failed = 0
    for i in ids:
        try:
            answers.append({"model": i, **ask(models[i])})
        except UnknownWordError as exc:
            answers.append({"model": i, "error": str(exc), "suggestions": exc.suggestions})
            unknown += 1
        except W2VError as exc:
            answers.append({"model": i, "error": str(exc)})
            failed += 1
    if unknown + failed < len(answers):
        return answers, 200
    return answers, 404 if not failed else 400


def api(models: Sequence[Model], handler: Callable[[Params], tuple[dict[str, Any], int]]) -> Any:
    """A route for ``handler``: its parameters read, its time in a Server-Timing header."""

    def endpoint(request: Request) -> Response:
        start = time.perf_counter()
        try:
            content, status = handler(Params(request, len(models)))
        except W2VError as exc:  # BadRequest, or a question no model could take
            return error(400, str(exc))
        if status >= 400 and "error" not in content:
            content = {"error": content["models"][0]["error"], **content}
        answer = Answer(content, status)  # rendered here: the time includes the JSON
        answer.headers["Server-Timing"] = f"app;dur={1000 * (time.perf_counter() - start):.2f}"
        return answer

    return endpoint


def api_routes(models: Sequence[Model]) -> list[Route]:
    def info(p: Params) -> tuple[dict[str, Any], int]:
        described = [{"id": i, **m.describe()} for i, m in enumerate(models)]
        return {
            "version": __version__,
            "models": described,
            "limits": limits.as_dict(),
            "defaults": limits.defaults(),
            "benchmarks": list(BENCHMARKS),
        }, 200

    def complete(p: Params) -> tuple[dict[str, Any], int]:
        prefix = p.text("prefix")
        n = p.integer("limit", limits.DEFAULT_COMPLETIONS, 1, limits.MAX_COMPLETIONS)
        lists = [models[i].complete(prefix, n) for i in p.models()]
        merged: dict[str, None] = {}  # the models' lists interleaved, rank by rank
        for rank in range(n):
            for words in lists:
                if rank < len(words):
                    merged.setdefault(words[rank], None)
        return {"prefix": prefix, "words": list(merged)[:n]}, 200

    def neighbors(p: Params) -> tuple[dict[str, Any], int]:
        word, k = p.text("word"), p.integer("k", limits.DEFAULT_K, 1, limits.MAX_K)
        metric = p.choice("metric", METRICS)
        answers, status = ask_each(models, p.models(), lambda m: m.neighbors(word, k, metric))
        return {"word": word, "k": k, "metric": metric, "models": answers}, status

    def similarity(p: Params) -> tuple[dict[str, Any], int]:
        a, b = p.text("a"), p.text("b")
        answers, status = ask_each(models, p.models(), lambda m: m.similarity(a, b))
        return {"a": a, "b": b, "models": answers}, status

    def analogy(p: Params) -> tuple[dict[str, Any], int]:
        a, b, c = p.text("a"), p.text("b"), p.text("c")
        k = p.integer("k", limits.DEFAULT_ANALOGY_K, 1, limits.MAX_K)
        method = p.choice("method", ANALOGY_METHODS)
        answers, status = ask_each(models, p.models(), lambda m: m.analogy(a, b, c, k, method))
        return {"a": a, "b": b, "c": c, "k": k, "method": method, "models": answers}, status

    def word_map(p: Params) -> tuple[dict[str, Any], int]:
        method = p.choice("method", MAP_METHODS)
        words = p.words("words", limits.MAX_CHOSEN_WORDS)
        ids = p.models()
        if words:
            near = p.integer("neighbors", limits.DEFAULT_MAP_NEIGHBORS, 0, limits.MAX_MAP_NEIGHBORS)
            answers, status = ask_each(models, ids, lambda m: m.map_around(words, near, method))
            return {"method": method, "words": words, "neighbors": near, "models": answers}, status
        n = p.integer("n", limits.DEFAULT_MAP_WORDS, 1, limits.MAX_MAP_WORDS)
        answers, status = ask_each(models, ids, lambda m: m.map_top(n, method))
        return {"method": method, "n": n, "models": answers}, status

    def run(p: Params) -> tuple[dict[str, Any], int]:
        return {"models": [{"model": i, **models[i].run()} for i in p.models()]}, 200

    def evaluate(p: Params) -> tuple[dict[str, Any], int]:
        names = p.words("benchmarks", len(BENCHMARKS)) or list(BENCHMARKS)
        for name in names:  # names of bundled sets only: a request never names a file
            if name not in BENCHMARKS:
                known = ", ".join(BENCHMARKS)
                raise BadRequest(f"unknown benchmark {name!r}; bundled: {known}")
        answers, status = ask_each(models, p.models(), lambda m: m.evaluate(names))
        return {"benchmarks": names, "models": answers}, status

    handlers = {
        "info": info,
        "complete": complete,
        "neighbors": neighbors,
        "similarity": similarity,
        "analogy": analogy,
        "map": word_map,
        "run": run,
        "evaluate": evaluate,
    }
    routes = [Route(f"/api/{name}", api(models, h)) for name, h in handlers.items()]
    endpoints = ", ".join(f"/api/{name}" for name in handlers)

    def unknown_endpoint(request: Request) -> Response:
        return error(404, f"no such endpoint: {request.url.path}; there are {endpoints}")

    return [*routes, Route("/api/{rest:path}", unknown_endpoint)]


# -- the app ---------------------------------------------------------------------------------


def create_app(models: Sequence[Model], *, allowed_hosts: Sequence[str] | None = None) -> ASGIApp:
    """The explorer over one or two models. ``allowed_hosts``: the Host names a request may
    carry (None: any). A server on 127.0.0.1 answers only to loopback names, so a web page
    elsewhere cannot reach it by pointing a domain of its own at 127.0.0.1."""
    if not 1 <= len(models) <= limits.MAX_MODELS:
        raise W2VError(f"the explorer shows one or two models, got {len(models)}")

    def index(request: Request) -> Response:
        return FileResponse(STATIC / "index.html")

    routes = [
        Route("/", index),
        *api_routes(models),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
    return Starlette(
        routes=routes,
        middleware=[Middleware(Guard, allowed_hosts=allowed_hosts)],
        exception_handlers={HTTPException: http_error, Exception: server_error},
    )


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 405:
        return error(405, "only GET is answered: the explorer is read-only")
    message = "not found" if exc.status_code == 404 else str(exc.detail)
    return error(exc.status_code, message)


async def server_error(request: Request, exc: Exception) -> Response:
    return error(500, "internal error (a bug in w2v serve; the server's log has the details)")


class Guard:
    """ASGI middleware: refuses a Host that is not allowed, and adds the security headers
    to every answer."""

    def __init__(self, app: ASGIApp, allowed_hosts: Sequence[str] | None) -> None:
        self.app = app
        self.allowed = None if allowed_hosts is None else {h.lower() for h in allowed_hosts}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    headers[name] = value
            await send(message)

        if self.allowed is not None:
            host = _host_name(dict(scope["headers"]).get(b"host", b"").decode("latin-1"))
            if host not in self.allowed:
                refused = error(400, f"this server does not answer to the host {host!r}")
                await refused(scope, receive, send_with_headers)
                return
        await self.app(scope, receive, send_with_headers)


def _host_name(header: str) -> str:
    """The name in a Host header, without its port: ``[::1]:8765`` -> ``::1``."""
    header = header.strip().lower()
    if header.startswith("["):
        return header[1:].split("]", 1)[0]
    return header.rsplit(":", 1)[0] if header.count(":") == 1 else header
