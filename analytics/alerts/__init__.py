"""The alert domain: lifecycle, notifications, maintenance windows, webhooks and routes."""
