"""Sending an issue to the list: the delivery ledger, the engine, rate limits and retries."""
