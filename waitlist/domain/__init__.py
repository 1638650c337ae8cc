"""The waitlist's rules in plain Python: states and transitions, parties, settings, errors, phone numbers.
Imports neither Flask nor Redis."""
