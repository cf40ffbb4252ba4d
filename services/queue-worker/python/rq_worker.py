"""An rq worker for chapter 11, started by the notebook as its own process:

    python rq_worker.py REDIS_URL NAME QUEUE [QUEUE ...]

It imports the jobs' module (and so numpy) before it starts, so the work horse that rq forks
for each job inherits it instead of importing it again: the usual way to run rq in production.
SIGTERM makes it finish the current job and stop. A server that requires a password gets it
from the environment variable REDIS_PASSWORD (when set and not empty), not the command line,
which every user of the host can read."""

import os
import sys

import cluster_jobs  # noqa: F401  (preloaded for the forked work horses)
from redis import Redis
from rq import Queue, Worker

url, name, *queues = sys.argv[1:]
connection = Redis.from_url(url, password=os.environ.get("REDIS_PASSWORD") or None)
worker = Worker([Queue(q, connection=connection) for q in queues], connection=connection, name=name)
worker.work()
