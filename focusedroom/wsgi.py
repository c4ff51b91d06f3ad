import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "focusedroom.settings")
application = get_wsgi_application()

# What set-up created (modules, classes, models, the admin's registry: about 150,000 objects) lives as
# long as the process. Frozen, the collector's full passes skip it: each pass was a pause of about
# 90 ms, once every few hundred requests (docs/performance.md, "Garbage collection").
gc.freeze()
