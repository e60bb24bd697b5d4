"""The webhook edge: the Starlette app, the uvicorn server, update de-duplication and connection limits."""
