"""SMS providers: the interface (``base``), the desk's sandbox outbox (``sandbox``) and
the configured provider (``registry``)."""
