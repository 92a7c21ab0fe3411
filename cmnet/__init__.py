"""cmnet."""
