"""The `heron` command line: one module per command group."""
