"""Model serving: the scoring server (`heron models serve`), batching and request capture."""
