"""The evaluation harness: rows in, traced runs of the app, scores as assessments, metrics out."""
