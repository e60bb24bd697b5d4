"""The article bot around the engine: the command line over three folders.

``core/`` is what every way of asking shares (settings, corpus changes, rebuilds, feedback,
wording, log redaction); ``chat/`` is the Telegram edge (handlers, replies, inline mode, the
python-telegram-bot application); ``web/`` is the webhook edge (the Starlette app, uvicorn, update
de-duplication, connection limits). Imports point one way: web → chat → core, and only ``cli``
knows all three.
"""
