import os

import django

from hiretext.lib.wsgi import Application, preload

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django.setup(set_prefix=False)
application = Application()  # webhooks and token API calls skip the browser middleware
preload()  # before the server forks its workers, not on each worker's first request
