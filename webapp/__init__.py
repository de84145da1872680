"""Relais: a local program that moves a small shop's business data where it must go."""

__version__ = "0.1.0"
