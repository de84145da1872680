"""Scrada: pull UBL invoices and CODA statements, validate them, write them to folders."""
