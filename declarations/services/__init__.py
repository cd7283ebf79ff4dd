"""Every write of the declarations module (STYLE.md: services hold the logic)."""
