"""Open data (Woo): the public datasets of closed surveys and their export events."""
