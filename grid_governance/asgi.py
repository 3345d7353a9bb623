"""ASGI entry point (uvicorn): HTTP goes to Django, the WebSocket `/ws/live/` to the live
pages' consumer (notifications/consumers.py), signed-in users only (the session cookie,
read as Channels' AuthMiddlewareStack does) and only from this site's pages (Origin checked
against ALLOWED_HOSTS). `make run` serves everything through it; in production gunicorn
serves HTTP and uvicorn (`make asgi`, the `live` service) the socket."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "grid_governance.settings")
# Django is set up first: the consumer's imports load models.
django_application = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from notifications.consumers import LiveAuthStack  # noqa: E402
from notifications.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_application,
        "websocket": AllowedHostsOriginValidator(LiveAuthStack(URLRouter(websocket_urlpatterns))),
    }
)
