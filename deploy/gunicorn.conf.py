"""gunicorn settings of a production web node: ``vva serve --gunicorn-config /etc/vva/gunicorn.conf.py``.

``vva serve`` sets the rest (bind address from --host/--port, the logger that masks pupil numbers,
the access-log format without query strings or bodies, TLS when the settings name a server key,
Prometheus multiprocess clean-up). ``--workers``/``--threads`` on the command line win over this file.
"""

import os

# The work is CPU-bound Python (XML canonicalisation, signatures, the service layer) under one GIL per
# process: one worker process per core uses the cores; two threads overlap one request's database
# round trips with another's Python. More threads only contend for the GIL: at 16 clients the p99 was
# 93–115 ms with 2 threads against 117–138 ms with 4 (bench/README.md).
workers = int(os.environ.get("VVA_WEB_WORKERS", os.cpu_count() or 1))
threads = int(os.environ.get("VVA_WEB_THREADS", 2))
# gthread receiving each request in full before a thread serves it (H92; broker/web/worker.py)
worker_class = "broker.web.worker.BufferingWorker"

# A 5,000-pupil delivery takes seconds; a request still running after a minute is stuck.
timeout = 60
graceful_timeout = 30
keepalive = 5

# Request line, header count and header size: gunicorn refuses anything larger (400/431) before the
# application sees it. The body is capped by the broker (max_request_bytes → 413) and nginx.
limit_request_line = 4094
limit_request_fields = 50
limit_request_field_size = 8190

# Recycle a worker now and then, so that fragmentation of a long-lived process never adds up.
max_requests = 20000
max_requests_jitter = 2000

# Heartbeat files in memory, not on a possibly slow disk.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None

# X-Forwarded-Proto (https, for the WSDL's soap:address) only from the local TLS terminator.
forwarded_allow_ips = os.environ.get("VVA_FORWARDED_ALLOW_IPS", "127.0.0.1")

accesslog = "-"
