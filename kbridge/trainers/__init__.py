"""`kbridge.trainers`: the shared fit/evaluate/predict machinery (DESIGN.md invariant 6)."""
