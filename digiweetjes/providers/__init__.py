"""Mail providers: one module per provider, all speaking the protocol in ``base``."""
