"""The platform-neutral core of social customer care for Rasa."""
