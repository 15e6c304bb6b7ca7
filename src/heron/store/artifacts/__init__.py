"""Artifact repositories: where files live (local disk, S3), behind one Protocol."""
