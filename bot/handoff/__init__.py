"""Handoff to human skills: agents, queues, availability, the consumer's and the agent's side.

The modules are imported one by one (``bot.handoff.availability``, ``bot.handoff.handoffs``...):
this package imports nothing, so the Rasa policy in ``bot.handoff.policy`` does not drag the store
into the model's fingerprint.
"""
