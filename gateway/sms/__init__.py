"""Durable SMS on the gateway: the store, the sender and the gateway methods (issue 20)."""
