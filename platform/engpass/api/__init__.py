"""The REST API v1 under ``/api/v1``: JSON for integrations, authenticated with personal access tokens."""
