"""The ASGI server: MLflow's REST API (and later Heron's own) over the services."""
