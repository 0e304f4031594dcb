"""Plumbing shared by every handler: settings, clients, events, routing, state, auth, errors, logging."""
