"""E-mail notifications: who wants which mail when, what was sent, and the links every mail carries."""
