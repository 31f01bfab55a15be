"""The WSGI application for `hiretext serve --server granian`: config.wsgi's, loaded in each
worker process, after which what it loaded is frozen out of the garbage collector's scans
(as config/gunicorn.py does in its master before forking: a full collection otherwise
walks every object Django loaded at start)."""

import gc

from config.wsgi import application

gc.collect()
gc.freeze()

__all__ = ["application"]
