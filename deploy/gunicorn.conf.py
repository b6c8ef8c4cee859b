"""gunicorn settings for KT1 Track behind nginx (docs/operations.md).

Installed as /etc/kt1/gunicorn.conf.py; started by deploy/systemd/kt1-web.service as
``gunicorn --config /etc/kt1/gunicorn.conf.py 'kt1:create_app()'``.
"""

import os

# Only nginx on this server talks to gunicorn: the loopback address, never the LAN.
bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
# Synchronous workers, one request each; WEB_CONCURRENCY (gunicorn's own variable) or 3.
# Two CPUs: 2 x CPUs + 1 is the usual figure, the database does the heavy work.
workers = int(os.environ.get("WEB_CONCURRENCY", "3"))
# A register PDF of a busy month takes seconds, not minutes.
timeout = 120
graceful_timeout = 30
# nginx on 127.0.0.1 sets X-Forwarded-Proto: https; gunicorn believes it only from there,
# so Flask sees https (Secure cookies, the Origin check of forms) behind the proxy.
forwarded_allow_ips = "127.0.0.1,::1"
# Access log to the journal: method, route with its parameters, status, time. gunicorn's
# default format also logs the Referer and User-Agent; our pages send no Referer.
accesslog = "-"
errorlog = "-"
loglevel = "info"
# No control socket (gunicorn 25.1 and later make one in $HOME): systemd starts, reloads
# and stops the server. Older gunicorn ignores the setting.
control_socket_disable = True
# Restart a worker now and then (memory held by a big report goes back to the system).
max_requests = 2000
max_requests_jitter = 200


def on_starting(server: object) -> None:
    """Multiprocess metrics (kt1/metrics.py): the shared directory starts empty."""
    path = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if path:
        os.makedirs(path, exist_ok=True)
        for name in os.listdir(path):
            if name.endswith(".db"):
                os.remove(os.path.join(path, name))


def child_exit(server: object, worker: object) -> None:
    """A worker that exits leaves its counts (they still add up) but no live gauges."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)  # type: ignore[attr-defined]
