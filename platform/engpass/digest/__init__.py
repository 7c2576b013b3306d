"""The weekly digest: what changed, what it saved, where the organization stands."""
