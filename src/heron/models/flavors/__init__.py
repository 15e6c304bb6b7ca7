"""One module per framework: save_model / load_model / log_model for that framework's models."""
