"""The bounded fuzzing of real servers (API and UI), with its request generator."""
