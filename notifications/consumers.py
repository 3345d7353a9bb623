"""The live pages' socket (`/ws/live/`): a signed-in user's page connects with the token
its view signed (live.sign) and is subscribed to the groups in it. The consumer only relays
what services publish after commit; it reads nothing about cases."""

import json
from types import SimpleNamespace
from urllib.parse import parse_qs

from asgiref.sync import sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from channels.middleware import BaseMiddleware
from channels.sessions import SessionMiddlewareStack
from django.contrib import auth
from django.db import close_old_connections

from . import live


def _user(session):
    close_old_connections()
    try:
        return auth.get_user(SimpleNamespace(session=session))
    finally:
        close_old_connections()


class SessionUserMiddleware(BaseMiddleware):
    """Channels' AuthMiddleware (the signed-in user from the session cookie), except that
    the session and user are read on any worker thread, not on the single thread Channels
    keeps for the database: 2,000 pages reconnecting after a restart queued there."""

    async def __call__(self, scope, receive, send):
        user = await sync_to_async(_user, thread_sensitive=False)(scope["session"])
        return await super().__call__({**scope, "user": user}, receive, send)


def LiveAuthStack(inner):  # named like Channels' AuthMiddlewareStack
    return SessionMiddlewareStack(SessionUserMiddleware(inner))


class LiveConsumer(AsyncWebsocketConsumer):
    async def connect(self):
        self.live_groups: list[str] = []
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close()  # refused before the handshake: an HTTP 403
            return
        query = parse_qs(self.scope.get("query_string", b"").decode("latin-1"))
        groups = live.groups_from_token(query.get("token", [""])[0], user_id=user.pk)
        if groups is None:
            await self.close()
            return
        for group in groups:
            await self.channel_layer.group_add(group, self.channel_name)
        self.live_groups = groups
        live.local_listeners += 1
        await self.accept()
        # `last`: when anything was last published to these groups, so a page rendered
        # before that knows it missed something between rendering and connecting.
        # Redis or this process's memory, not the database: any thread will do.
        last = await sync_to_async(live.last_published, thread_sensitive=False)(groups)
        await self.send(json.dumps({"type": "hello", "at": live.clock.now(), "last": last}))

    async def dispatch(self, message):
        """Relaying an event or answering a ping touches no database, so it skips Channels'
        hop, before every message, to the one thread that closes stale database
        connections: with 2,000 sockets on a group that hop queued an event for seconds."""
        if message["type"] == "live.event":
            await self.live_event(message)
        elif message["type"] == "websocket.receive":
            await self.websocket_receive(message)
        else:
            await super().dispatch(message)

    async def disconnect(self, code):
        if self.live_groups:
            live.local_listeners -= 1
        for group in self.live_groups:
            await self.channel_layer.group_discard(group, self.channel_name)

    async def receive(self, text_data=None, bytes_data=None):
        """Pages send nothing but keep-alive pings; answered so proxies see traffic."""
        if text_data == "ping":
            await self.send("pong")

    async def live_event(self, message):
        await self.send(message["text"])
