"""Benchmarks of the app on the local stack: cold import, callback turnaround, concurrent calls (`python -m bench`)."""
