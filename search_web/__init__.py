"""Placeholder; the web app follows."""
