"""What the API server and the web UI both build on: routes that carry their policy, the error
code -> HTTP status table, and file responses."""
