"""The questline player simulator: seeded players over the game API, and the ground
truth of what it sent and what the API acknowledged (see ground_truth.py)."""
