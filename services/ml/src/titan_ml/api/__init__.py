"""HTTP routes only: validation in, domain calls, JSON out."""
