"""The pure dispute domain: no I/O, no persistence, no chain access."""
