"""Personal access tokens for the API: made in an organization, shown once, kept only as a hash."""
