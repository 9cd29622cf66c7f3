"""Use cases of the identity service; the only place a transaction is opened."""
