"""Helpers for tests against the real PostgreSQL, RabbitMQ and SMTP servers."""
