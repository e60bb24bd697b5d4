"""The Telegram edge: handlers, replies, inline mode and the python-telegram-bot application."""
