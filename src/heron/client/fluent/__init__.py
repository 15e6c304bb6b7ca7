"""The fluent API (`heron.start_run()`, `heron.log_metric()`, `heron.log_artifact()`, ...):
module-level functions on one active run, experiment and model, all held by `state`. `heron`
re-exports the public ones."""
