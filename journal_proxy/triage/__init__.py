"""Triage: steps, group markers, errors and warnings, and how a log adds up."""
