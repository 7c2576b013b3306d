"""Outbound webhooks: an organization's endpoints, the events the cycles emit and their signed deliveries."""
