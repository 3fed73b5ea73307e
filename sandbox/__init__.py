"""A local stand-in for Facebook and X: signed webhooks out, Graph / X API calls in."""
