"""Accounts of people: registration, profile and administration."""
