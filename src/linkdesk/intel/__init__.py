"""Phone intelligence: providers behind one async interface (:class:`IntelProvider`)."""

from linkdesk.intel.base import IntelProvider, InvalidNumberForProvider

__all__ = ["IntelProvider", "InvalidNumberForProvider"]
