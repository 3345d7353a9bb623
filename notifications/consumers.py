"""The live pages' socket (`/ws/live/`): a signed-in user's page connects with the token
its view signed (live.sign) and is subscribed to the groups in it. The consumer only relays
what services publish after commit; it reads nothing about cases."""

import json
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer

from . import live


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
        last = await database_sync_to_async(live.last_published)(groups)
        await self.send(json.dumps({"type": "hello", "at": live.clock.now(), "last": last}))

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
