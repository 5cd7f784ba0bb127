"""LinkDesk: a console help-desk hub for phone-number association risk."""

__version__ = "0.1.0"
