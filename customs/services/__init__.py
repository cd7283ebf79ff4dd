"""Services of the shared kernel: every write lives here (HackSoft style)."""
