"""Masked calling: privacy numbers (AXB) that connect an agent to a borrower without
showing either number to the other. See docs/contact.md."""
