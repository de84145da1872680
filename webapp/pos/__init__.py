"""Autonomous cash registers: the office and register roles (POS-1 to POS-7); see docs/pos.md."""
