"""The organization's home page — the dashboard — with its caches, and the settings that value its figures."""
