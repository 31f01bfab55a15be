"""ASGI entry point, for the live event stream (`/inbox/events`): `hiretext serve_events`.

Everything else runs faster under the WSGI workers of `hiretext serve`; a proxy sends
`/inbox/events` here (README: Live updates). This process can serve every URL (it runs
alone, too), with CONN_MAX_AGE 0: hundreds of open streams must not each keep a database
connection (`HIRETEXT_ASGI`, read by config/settings.py).
"""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ["HIRETEXT_ASGI"] = "1"

from django.core.asgi import get_asgi_application  # noqa: E402 - the settings flag comes first

application = get_asgi_application()
