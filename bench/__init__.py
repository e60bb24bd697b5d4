"""Benchmarks of the engine and the bot: ``python -m bench [--quick]`` (see docs/performance.md)."""
