"""Security services: who is calling (users, tokens, sessions), what they may do (grants,
roles), and what happened (the audit log)."""
