"""Delivery: opening a log now or live, sharing a read, the live hub, the finished-log cache and the runs kept on disk."""
