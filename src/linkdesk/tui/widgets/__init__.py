"""Widgets of the console, one a module."""
