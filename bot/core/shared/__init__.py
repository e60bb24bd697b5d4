"""State the bot's workers share, each kind failing open to what this process knows.

One module per kind of state: the update ids taken (``updates``), the per-reader throttles
(``throttle``), the bot's reply budget (``reply_budget``), the "More passages" keys
(``buttons``), what each chat was just talking about (``conversations``), and the Redis they
may share (``link``).

One naming scheme: the class named after the kind alone (``UpdateIds``, ``Throttle``,
``Buttons``, ``Conversations``) keeps it in this process; ``Folder…`` and ``File…`` keep it on
the disk the workers of one host share (``FolderUpdateIds``, ``FileButtons``); ``Redis…`` in the
Redis of ``REDIS_URL`` for workers on several hosts (``RedisUpdateIds``, ``RedisThrottle``,
``RedisButtons``, ``RedisConversations``, ``RedisReplyBudget``). Each of those subclasses falls
back on its base, this process's own state, while its store does not answer, rather than
refuse an update; the reply budget falls back on python-telegram-bot's ``AIORateLimiter``.
"""
