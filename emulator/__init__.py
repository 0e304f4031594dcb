"""A local emulator of Azure Communication Services Call Automation that the real SDK drives (never deployed)."""
