"""Starts and supervises the development stack: model training cache, Rasa, actions, sandbox."""
