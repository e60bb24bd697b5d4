"""The edge of the article bot: settings, command line, Telegram handlers and the web server."""
