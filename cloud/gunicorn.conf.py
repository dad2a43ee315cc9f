"""Gunicorn settings for the hosted form (App Runner): threaded workers, logs to stdout.

Requests are short: an upload is read and stored, then analysed in the worker's background
executor, never in the request; a poll or a decision is a few S3 calls. Threads (gthread) keep a
slow S3 call from starving the health check.
"""

from __future__ import annotations

import os
import sys

from cloud.startup import settings_or_exit, startup_line


def _whole(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or int(raw) < 1:
        raise SystemExit(f"AI-Prism cannot start: {name} must be a whole number, not {raw!r}.")
    return int(raw)


def _cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))  # the CPUs this container may use, not the host's
    except AttributeError:
        return os.cpu_count() or 1


port = str(_whole("PORT", 8080))
bind = f"0.0.0.0:{port}"  # App Runner connects to the container's port from outside it
workers = _whole("WEB_CONCURRENCY", max(2, _cpus()))
worker_class = "gthread"
# Request threads per worker. An upload holds one for a second or two (read, check, store), so a
# burst of uploads larger than workers × threads leaves /health waiting for a thread: with 8,
# twenty uploads at once on two workers pushed its p99 to 0.5-0.7 s; with 16, 56 ms (bench/).
threads = _whole("GUNICORN_THREADS", 16)
# The heartbeat of a worker, not a request limit: analyses run in background threads, so a worker
# that has not answered for 30 s is stuck. App Runner itself cuts requests at 120 s.
timeout = 30
# On SIGTERM (a deployment, scale-in) workers finish their requests and then their analyses
# (worker_exit below); past this they are killed, and the next start resumes what was cut off.
graceful_timeout = 30
keepalive = 75  # above the front end's 60 s idle timeout, so the proxy closes idle connections
accesslog = "-"
# Gunicorn's default line, with the path instead of the request line (whose query string carries
# the sign-in token of /?token=…) and without the referrer.
access_log_format = '%(h)s %(l)s %(u)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s "%(a)s" %(M)sms'
errorlog = "-"
# Trust X-Forwarded-Proto (https, for Secure cookies and the Origin check) from any peer: App
# Runner's front end terminates TLS and connects from addresses it does not publish, and the
# container is reachable only through it. Behind another proxy, set its addresses here.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "*")
control_socket_disable = True  # gunicorn 25+: no runtime control socket in a web container
# Each worker builds its own app after the fork: boto3 clients, the analysis thread pool and
# SQLite connections must not be shared across processes, and threads do not survive a fork.
preload_app = False
SWITCH_INTERVAL = 0.0005  # seconds; Python's default is 0.005


def when_ready(server) -> None:
    """Before the workers boot: stop once on bad settings, else describe the service in one line."""
    settings = settings_or_exit(os.environ)
    server.log.info(startup_line(settings, port, server.cfg.workers, server.cfg.threads))


def worker_exit(server, worker) -> None:
    """Let this worker's analyses finish before Python starts shutting down: from then on it
    refuses new thread pools, which the AI engine and the S3 store open per call, and a review cut
    off that way is recorded as failed instead of being resumed."""
    app = getattr(worker, "wsgi", None)  # absent when the app failed to load
    if app is not None:
        app.extensions["aiprism_jobs"].shutdown()


def post_worker_init(worker) -> None:
    """Hand the interpreter between threads every 0.5 ms instead of 5: a health check or page
    request waiting behind upload and analysis threads (botocore, multipart parsing) gets it ten
    times sooner. Through a burst of uploads it cut /health's p99 by a fifth to a third
    (bench/README.md)."""
    sys.setswitchinterval(SWITCH_INTERVAL)
