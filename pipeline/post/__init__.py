"""post package."""
