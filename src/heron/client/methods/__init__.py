"""HeronClient's methods, one mixin per area beside the tracking ones of `client.py`."""
