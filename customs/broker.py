"""Celery's Redis transport, with one client per channel for the commands it sends.

kombu's Redis channel builds a new ``redis.Redis`` client for every message it publishes (and every
other command it sends outside its poll loop); building one fills a table of about 170 response
callbacks, a fifth of the cost of sending a task, which every lodgement does. The client is only a
front for the channel's connection pool and is safe to share between threads, so this channel keeps
one, made again if the channel replaces its pool. Chosen in ``customs.celery_settings`` when the broker
is Redis.
"""

from kombu.transport import redis as kombu_redis


class Channel(kombu_redis.Channel):
    _command_client = None

    def _create_client(self, asynchronous=False):
        if asynchronous:
            return super()._create_client(asynchronous=True)
        client = self._command_client
        if client is None or client.connection_pool is not self.pool:
            client = self._command_client = super()._create_client()
        return client


class Transport(kombu_redis.Transport):
    Channel = Channel
